import { initialContext, withNodeOutputs } from './execution-context';
import { parseGraph } from './graph';

/** Control keys of a run snapshot (docs/contract.md §4.6). Everything else is the workflow graph. */
export const SNAPSHOT_KEYS = {
  triggerContext: '_trigger_context',
  startFromNode: '_start_from_node',
  startTriggerLabel: '_start_trigger_label',
  egressAllowlist: '_egress_allowlist',
  resumeContext: '_resume_context',
  resumeFromNodes: '_resume_from_nodes',
  resumeAt: '_resume_at',
} as const;

type Graph = Record<string, unknown>;

/** True when `nodeId` names a trigger node of the graph (only those may be start nodes, docs/contract.md §2.8). */
export function isTriggerNode(graph: Graph, nodeId: string | undefined): nodeId is string {
  return !!nodeId && parseGraph(graph).graph.node(nodeId)?.type === 'trigger';
}

/** The graph of a snapshot or saved graph: its top-level entries without the control keys (`_…`). */
export function graphPart(snapshot: Graph): Graph {
  return Object.fromEntries(Object.entries(snapshot).filter(([key]) => !key.startsWith('_')));
}

/** The control entries of a snapshot (`_…`): what a run adds to its workflow's graph. */
export function controlPart(snapshot: Graph): Graph {
  return Object.fromEntries(Object.entries(snapshot).filter(([key]) => key.startsWith('_')));
}

/** A fresh snapshot of the workflow graph (control keys of the saved graph are dropped). */
export function buildSnapshot(
  data: Graph,
  options: { triggerContext?: unknown; startFromNodeId?: string; egressAllowlist: string[] },
): Record<string, unknown> {
  // `data` was just read for this run: its graph is shared, not copied (a 5,000-node graph is a
  // megabyte); nothing writes into a snapshot's nodes.
  const snapshot = graphPart(data);
  if (options.triggerContext !== undefined) snapshot[SNAPSHOT_KEYS.triggerContext] = options.triggerContext;
  if (isTriggerNode(snapshot, options.startFromNodeId)) snapshot[SNAPSHOT_KEYS.startFromNode] = options.startFromNodeId;
  snapshot[SNAPSHOT_KEYS.egressAllowlist] = [...options.egressAllowlist];
  return snapshot;
}

/**
 * The snapshot of a rerun (deviation 6 in docs/deviations.md): the base run's graph and trigger payload, the
 * workflow's *current* allowlist, no stale resume state; a new payload or trigger start when given.
 */
export function rerunSnapshot(
  base: Record<string, unknown>,
  options: { triggerContext?: unknown; startFromNodeId?: string; egressAllowlist: string[] },
): Record<string, unknown> {
  const snapshot = structuredClone(base);
  for (const key of [SNAPSHOT_KEYS.resumeContext, SNAPSHOT_KEYS.resumeFromNodes, SNAPSHOT_KEYS.resumeAt])
    delete snapshot[key];
  const start = snapshot[SNAPSHOT_KEYS.startFromNode];
  if (typeof start !== 'string' || !isTriggerNode(snapshot, start)) delete snapshot[SNAPSHOT_KEYS.startFromNode];
  if (options.triggerContext !== undefined) snapshot[SNAPSHOT_KEYS.triggerContext] = options.triggerContext;
  if (isTriggerNode(snapshot, options.startFromNodeId)) snapshot[SNAPSHOT_KEYS.startFromNode] = options.startFromNodeId;
  snapshot[SNAPSHOT_KEYS.egressAllowlist] = [...options.egressAllowlist];
  return snapshot;
}

/** What a run recorded of one node: enough to rebuild the context a resumed run starts from. */
export interface RecordedNode {
  nodeId: string;
  status: string;
  outputs: unknown;
}

/**
 * Rerun from the failed node (deviation 6 in docs/deviations.md): resume at `failedNodeId` with the context rebuilt
 * from the base run's succeeded node outputs, so the nodes before it are not executed again.
 */
export function resumeFromFailedSnapshot(
  base: Record<string, unknown>,
  nodeRuns: readonly RecordedNode[],
  failedNodeId: string,
  options: { triggerContext?: unknown; egressAllowlist: string[] },
): Record<string, unknown> {
  const snapshot = rerunSnapshot(base, {
    triggerContext: options.triggerContext,
    egressAllowlist: options.egressAllowlist,
  });
  const { nodes, byId } = parseGraph(snapshot).graph;
  const start = snapshot[SNAPSHOT_KEYS.startFromNode];
  let context = initialContext({
    nodes,
    startNodeId: typeof start === 'string' ? start : null,
    triggerContext: snapshot[SNAPSHOT_KEYS.triggerContext],
  });
  for (const nodeRun of nodeRuns) {
    const node = byId.get(nodeRun.nodeId);
    if (node && nodeRun.status === 'succeeded' && nodeRun.nodeId !== failedNodeId)
      context = withNodeOutputs(context, node, nodeRun.outputs);
  }
  snapshot[SNAPSHOT_KEYS.resumeContext] = context;
  snapshot[SNAPSHOT_KEYS.resumeFromNodes] = [failedNodeId];
  return snapshot;
}
