export { createTestDatabase, type TestDatabase } from "./database.ts";
export { startTestStack, type TestStack } from "./local-stack.ts";
export { createTestBucket, type TestBucket } from "./s3.ts";
