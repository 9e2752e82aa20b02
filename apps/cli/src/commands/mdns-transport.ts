// mDNS from the configuration: whether to announce at all, and the socket
// settings (real mDNS by default; an interface and port when set, as a test
// does to keep its announcements on loopback).
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

/**
 * mDNS is on, and someone could use the answer: a coordinator or agent bound
 * to loopback is unreachable from the LAN, so it stays quiet there (unless
 * mDNS itself is pointed at loopback, as the tests do).
 */
export function announcesOnLan(config: UpConfig): boolean {
  if (config.discovery !== "mdns") return false;
  return !isLoopback(config.host) || isLoopback(config.mdnsInterface);
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}
