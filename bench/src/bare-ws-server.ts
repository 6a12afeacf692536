/**
 * The peer of the notifier benchmark: a bare `ws` server doing nothing but hold connections and, when
 * the control socket (the first path `/control`) says so, send one small frame to every other socket.
 * Prints its port once listening. Run by benches/notifier.ts as a child, so its RSS is its own.
 */
import { type WebSocket, WebSocketServer } from "ws";

const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
const clients = new Set<WebSocket>();
server.on("connection", (socket, request) => {
  if (request.url === "/control") {
    socket.on("message", (data) => {
      const frame = JSON.stringify({ type: "changed", syncToken: data.toString() });
      for (const client of clients) client.send(frame);
    });
    return;
  }
  clients.add(socket);
  socket.on("close", () => clients.delete(socket));
  socket.send(JSON.stringify({ type: "hello" }));
});
server.on("listening", () => {
  const address = server.address();
  process.stdout.write(`${typeof address === "object" && address ? address.port : 0}\n`);
});
process.once("SIGTERM", () => {
  for (const client of clients) client.terminate();
  server.close(() => process.exit(0));
});
