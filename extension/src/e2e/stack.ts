import { startTestStack, type TestStack } from "@wsync/test-fixtures";

/**
 * The whole backend for one test file: the edge API and the notifier on free ports, on a fresh database
 * and bucket of the run's PostgreSQL and S3 store (test-fixtures' global setup starts those).
 */
export async function startE2eStack(): Promise<TestStack & { stop(): Promise<void> }> {
  const stack = await startTestStack();
  return { ...stack, stop: () => stack.close() };
}
