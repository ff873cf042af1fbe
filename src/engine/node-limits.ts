import { NodeError } from './node-types';

/** Limits the engine enforces on every node, whichever thread runs it. */
export interface NodeLimits {
  /** Wall time of one node; a pure node's thread is terminated past it. */
  timeoutMs: number;
  /** JSON size of one node's outputs. */
  outputBytes: number;
  /** JSON size of all node outputs of one execution. */
  runOutputBytes: number;
}

export type LimitCode = 'node_timeout' | 'output_too_large' | 'node_memory_exceeded' | 'node_crashed';

/** A node stopped by an engine limit: the error text is `{"error":"<code>","message":…}`, like egress blocks. */
export class NodeLimitError extends NodeError {
  constructor(
    readonly code: LimitCode,
    detail: string,
  ) {
    super(JSON.stringify({ error: code, message: detail }));
  }
}

/** The JSON size of a node's outputs; throws `output_too_large` past `limit` (the text is built once either way). */
export function outputSize(outputs: unknown, limit: number): number {
  let bytes: number;
  try {
    bytes = Buffer.byteLength(JSON.stringify(outputs) ?? 'null');
  } catch {
    throw new NodeError('Node outputs cannot be stored as JSON');
  }
  if (bytes > limit) {
    throw new NodeLimitError('output_too_large', `Node outputs are ${bytes} bytes; the limit is ${limit}`);
  }
  return bytes;
}
