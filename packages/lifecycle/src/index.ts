export { alreadyOpen, type Service } from "./service.ts";
export { ServiceGroup } from "./service-group.ts";
