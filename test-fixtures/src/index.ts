export { createTestDatabase, type TestDatabase } from "./database.ts";
export { type DeviceNetwork, startDeviceNetwork } from "./device-network.ts";
export { startTestStack, type TestStack } from "./local-stack.ts";
export {
  createNetworkCut,
  type NetworkCut,
  type NetworkMode,
  type ProxiedRoute,
} from "./network-cut-proxy.ts";
export { createTestBucket, type TestBucket } from "./s3.ts";
export { leakedSecrets, secretForms } from "./secrets.ts";
