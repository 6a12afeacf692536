import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

export type NetworkMode = "up" | "refuse" | "blackhole";

/** One proxied server: `url` is `upstream` with the proxy's host and port in its place. */
export interface ProxiedRoute {
  upstream: string;
  url: string;
  port: number;
}

/**
 * The network between one device and every server it talks to, as TCP proxies on loopback (one port
 * per server). Bytes pass untouched (TLS-free HTTP, WebSocket upgrades, S3 requests alike), so what a
 * cut does to the device is what a real one does:
 * - `refuse()`: every open connection is reset and new ones are refused (the listener closes), as when
 *   the host is reachable but nothing answers on the port, or the device knows it has no route.
 * - `blackhole()`: connections stay open and new ones are accepted, but no byte passes either way and
 *   no close is forwarded, as when Wi-Fi drops: requests hang until the device's own timeouts fire.
 *   What was sent meanwhile arrives once the network is back (TCP would retransmit it).
 * - `restore()`: everything flows again; closes held by the blackhole are passed on.
 */
export interface NetworkCut {
  readonly mode: NetworkMode;
  /** A proxy in front of `upstream` (an http(s)/ws URL of a server on loopback). */
  route(upstream: string): Promise<ProxiedRoute>;
  refuse(): Promise<void>;
  blackhole(): void;
  restore(): Promise<void>;
  /** Connections open through the proxies now (for tests of the proxy itself). */
  openConnections(): number;
  close(): Promise<void>;
}

interface Link {
  client: Socket;
  upstream: Socket | undefined;
  /** Work held while blackholed, run in order on restore. */
  held: Array<() => void>;
}

interface Listener {
  server: Server;
  port: number;
  target: { host: string; port: number };
}

export function createNetworkCut(host = "127.0.0.1"): NetworkCut {
  let mode: NetworkMode = "up";
  const listeners: Listener[] = [];
  const links = new Set<Link>();

  const whenUp = (link: Link, work: () => void) => {
    if (mode === "blackhole") link.held.push(work);
    else work();
  };
  const drop = (link: Link) => {
    links.delete(link);
    for (const socket of [link.client, link.upstream])
      if (socket && !socket.destroyed) socket.resetAndDestroy();
  };

  const openUpstream = (link: Link, target: Listener["target"]) => {
    const upstream = tcpConnect(target.port, target.host);
    link.upstream = upstream;
    upstream.on("error", () => whenUp(link, () => drop(link)));
    upstream.on("data", (bytes) => whenUp(link, () => link.client.write(bytes)));
    upstream.on("end", () => whenUp(link, () => link.client.end()));
    upstream.on("close", () => whenUp(link, () => link.client.destroy()));
    // While blackholed, sockets are not read: the peers' writes pile up in kernel buffers, as on a
    // dead link, and flow once resumed.
    if (mode === "blackhole") upstream.pause();
  };

  const accept = (listener: Listener) => (client: Socket) => {
    if (mode === "refuse") {
      client.resetAndDestroy();
      return;
    }
    const link: Link = { client, upstream: undefined, held: [] };
    links.add(link);
    client.on("error", () => whenUp(link, () => drop(link)));
    client.on("data", (bytes) => whenUp(link, () => link.upstream?.write(bytes)));
    client.on("end", () => whenUp(link, () => link.upstream?.end()));
    client.on("close", () => {
      whenUp(link, () => {
        links.delete(link);
        link.upstream?.destroy();
      });
    });
    if (mode === "blackhole") {
      client.pause();
      // The connection is accepted (as the far side's kernel would not answer, the device waits).
      link.held.push(() => openUpstream(link, listener.target));
    } else openUpstream(link, listener.target);
  };

  const listen = (listener: Listener, port: number) =>
    new Promise<number>((resolve, reject) => {
      listener.server.once("error", reject);
      listener.server.listen(port, host, () => {
        listener.server.off("error", reject);
        const address = listener.server.address();
        resolve(typeof address === "object" && address ? address.port : port);
      });
    });
  const unlisten = (server: Server) =>
    new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));

  return {
    get mode() {
      return mode;
    },
    async route(upstream) {
      const url = new URL(upstream);
      const target = { host: url.hostname, port: Number(url.port) || (url.protocol === "https:" ? 443 : 80) };
      const listener: Listener = { server: createServer(), port: 0, target };
      listener.server.on("connection", accept(listener));
      listener.port = await listen(listener, 0);
      listeners.push(listener);
      url.host = `${host}:${listener.port}`;
      const proxied = url.pathname === "/" && !upstream.endsWith("/") ? url.origin : url.toString();
      return { upstream, url: proxied, port: listener.port };
    },
    async refuse() {
      mode = "refuse";
      for (const link of [...links]) drop(link);
      await Promise.all(listeners.map((listener) => unlisten(listener.server)));
    },
    blackhole() {
      mode = "blackhole";
      for (const link of links) {
        link.client.pause();
        link.upstream?.pause();
      }
    },
    async restore() {
      const was = mode;
      mode = "up";
      if (was === "refuse") {
        // Same ports: the device keeps its URLs, as after a real outage.
        for (const listener of listeners) await listen(listener, listener.port);
      }
      for (const link of [...links]) {
        const held = link.held.splice(0);
        for (const work of held) work();
        link.client.resume();
        link.upstream?.resume();
      }
    },
    openConnections: () => links.size,
    async close() {
      mode = "refuse";
      for (const link of [...links]) drop(link);
      await Promise.all(listeners.map((listener) => unlisten(listener.server)));
    },
  };
}
