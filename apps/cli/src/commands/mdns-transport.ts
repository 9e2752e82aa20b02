// The mDNS socket settings from the configuration: real mDNS by default; an
// interface and port when set (a test keeps its announcements on loopback).
import type { MdnsTransportOptions } from "@flotilla/protocol";
import type { UpConfig } from "../config/up-config.ts";

export function mdnsTransport(config: UpConfig): MdnsTransportOptions {
  return {
    port: config.mdnsPort,
    // Binding the wildcard address receives the group's traffic on any
    // interface; `interface` picks where we join the group and send.
    ...(config.mdnsInterface === "" ? {} : { interface: config.mdnsInterface, bind: "0.0.0.0" }),
  };
}
