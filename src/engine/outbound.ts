import { OutboundError, OutboundRequest, OutboundResponse } from '../egress/outbound-http';
import { GraphNode, NodeContext, NodeError } from './node-types';

/** Who is calling, for the egress policy and the block log: the run, the node and its allowlist. */
export function outboundOrigin(ctx: NodeContext, node: Pick<GraphNode, 'id'>): NonNullable<OutboundRequest['origin']> {
  return {
    workflowId: ctx.run.workflowId,
    runId: ctx.run.runId,
    nodeId: node.id,
    ownerId: ctx.run.ownerId,
    egressAllowlist: ctx.run.egressAllowlist ?? [],
    secrets: ctx.secrets ?? [],
  };
}

/**
 * A call to a provider API (email, chat): no redirects, cancel with the run, and a non-2xx answer
 * is a node failure. Errors name the service and status, never the request (deviation 22 in docs/deviations.md).
 */
export async function callProvider(
  ctx: NodeContext,
  node: Pick<GraphNode, 'id'>,
  service: string,
  timeoutMs: number,
  req: Pick<OutboundRequest, 'method' | 'url' | 'headers' | 'body'>,
): Promise<OutboundResponse> {
  let response: OutboundResponse;
  try {
    response = await ctx.http.request({
      ...req,
      timeoutMs,
      signal: ctx.signal,
      followRedirects: false,
      origin: outboundOrigin(ctx, node),
    });
  } catch (err) {
    if (err instanceof OutboundError) throw new NodeError(`${service} request failed: ${err.message}`);
    throw new NodeError(`${service} request failed`);
  }
  if (response.status < 200 || response.status > 299) throw new NodeError(`${service} responded ${response.status}`);
  return response;
}
