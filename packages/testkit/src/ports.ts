// Free loopback ports for test processes. The port is released before the
// caller binds it; on a quiet test machine nothing else takes it meanwhile.
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { createServer } from "node:net";

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (address === null || typeof address !== "object") throw new Error("no TCP port from the OS");
  return address.port;
}

/** A UDP port: mDNS tests use a private one so they never reach the LAN. */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  const { port } = socket.address();
  socket.close();
  return port;
}
