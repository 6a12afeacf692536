export { createTestDatabase, type TestDatabase } from "./database.ts";
export { createTestBucket, type TestBucket } from "./s3.ts";
