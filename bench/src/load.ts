import autocannon from "autocannon";

export interface LoadResult {
  /** Answers with a 2xx status per second. */
  okPerSecond: number;
  /** Requests that got anything else, and transport errors. */
  failures: number;
  /** Answers by status, and "error"/"timeout" for requests that got none. */
  statuses: Record<string, number>;
  p50: number;
  p99: number;
}

/**
 * `connections` clients each sending one request at a time for `seconds` (autocannon). `next` builds
 * each request for its connection's context; `onAnswer` sees each answer (e.g. to count versions).
 */
export async function load(options: {
  url: string;
  connections: number;
  seconds: number;
  next: (context: Record<string, unknown>) => {
    method: "GET" | "POST";
    path: string;
    headers: Record<string, string>;
    body?: string;
  };
  onAnswer?: (status: number, body: string, context: Record<string, unknown>) => void;
}): Promise<LoadResult> {
  const statuses: Record<string, number> = {};
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    pipelining: 1,
    duration: options.seconds,
    // Far above any p99 seen here: a request that times out gets no answer, so its client would not
    // be given back (see the commit benchmark's lender).
    timeout: 60,
    initialContext: {},
    requests: [
      {
        setupRequest: (request, context) => ({ ...request, ...options.next(context) }),
        onResponse: (status: number, body: string, context: Record<string, unknown>) => {
          statuses[status] = (statuses[status] ?? 0) + 1;
          options.onAnswer?.(status, body, context);
        },
      },
    ],
  });
  if (result.errors) statuses.error = result.errors;
  if (result.timeouts) statuses.timeout = result.timeouts;
  const ok = result["2xx"];
  return {
    okPerSecond: ok / options.seconds,
    failures: result.non2xx + result.errors + result.timeouts,
    statuses,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}
