/**
 * Every HTTP call a workflow makes goes through one `OutboundHttp` (docs/contract.md §7). This issue's
 * implementation handles timeouts, redirects, response size and cancellation; the egress policy
 * and SSRF guard plug in behind the same interface later.
 */
export interface OutboundRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Follow 3xx responses (at most 10 hops). */
  followRedirects?: boolean;
  /** Context for policy decisions and block records. */
  origin?: {
    workflowId: string;
    runId: string;
    nodeId: string;
    ownerId: string;
    egressAllowlist?: string[];
    /** The run's secret values: a blocked URL is logged with them masked (a webhook URL can be one). */
    secrets?: readonly string[];
  };
}

export interface OutboundResponse {
  status: number;
  /** Lower-cased header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** The URL of the final hop. */
  url: string;
}

export abstract class OutboundHttp {
  abstract request(req: OutboundRequest): Promise<OutboundResponse>;
}

/** A transport failure (DNS, connect, timeout, too large, aborted…): the message is safe to show. */
export class OutboundError extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'aborted' | 'too_large' | 'network' | 'redirects' | 'blocked',
  ) {
    super(message);
  }
}
