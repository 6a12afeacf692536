import type { TestStack } from "./local-stack.ts";
import { createNetworkCut, type NetworkCut } from "./network-cut-proxy.ts";

/** The URLs one device uses, all through its own network (`cut`). */
export interface DeviceNetwork {
  cut: NetworkCut;
  /** An edge API instance whose presigned URLs point at this network's proxy of the S3 store. */
  apiUrl: string;
  notifierUrl: string;
  close(): Promise<void>;
}

/**
 * Puts one device behind a network of its own: its edge API, its notifier and its S3 store traffic
 * all go through proxies that `cut` can refuse or blackhole, while other devices keep the stack's
 * direct addresses. Presigned URLs name the host they were signed for, so the device gets an edge API
 * instance of its own (same database and bucket, as behind a balancer) that signs for the proxy.
 */
export async function startDeviceNetwork(stack: TestStack): Promise<DeviceNetwork> {
  const cut = createNetworkCut();
  try {
    const s3 = await cut.route(stack.s3.endpoint);
    const { startEdgeApi } = await import("@wsync/edge-api");
    const api = await startEdgeApi({
      databaseUrl: stack.databaseUrl,
      s3: { ...stack.s3, publicEndpoint: s3.url },
      host: "127.0.0.1",
      port: 0,
      // One cache per instance would not see the other instances' writes.
      cache: { kind: "off" },
      config: { maintenanceIntervalSeconds: 0 },
      log: () => {},
    });
    const [apiRoute, notifierRoute] = await Promise.all([cut.route(api.url), cut.route(stack.notifierUrl)]);
    return {
      cut,
      apiUrl: apiRoute.url,
      notifierUrl: notifierRoute.url,
      async close() {
        await cut.close();
        await api.close();
      },
    };
  } catch (error) {
    await cut.close();
    throw error;
  }
}
