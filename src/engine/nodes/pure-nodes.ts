import type { NodeExecutor } from '../node-types';
import { CodeNode, type CodeLimits } from './code.node';
import { ConditionNode } from './condition.node';
import { DelayNode } from './delay.node';
import { FormatterNode } from './formatter.node';
import { TriggerNode } from './trigger.node';

/**
 * Node types that compute over their inputs and the context only (no outside calls, no services):
 * they run in the engine's worker threads, where a runaway one can be terminated without touching
 * the thread that serves HTTP. Registered here once; the main-thread registry and the threads both
 * build them from this table.
 */
export const PURE_NODES = {
  trigger: () => new TriggerNode(),
  condition: () => new ConditionNode(),
  delay: () => new DelayNode(),
  formatter: () => new FormatterNode(),
  code: (limits: PureNodeLimits) => new CodeNode(limits.code),
} satisfies Record<string, (limits: PureNodeLimits) => NodeExecutor>;

export type PureNodeKind = keyof typeof PURE_NODES;

export interface PureNodeLimits {
  code: CodeLimits;
}

export function isPureNodeKind(kind: string): kind is PureNodeKind {
  return Object.prototype.hasOwnProperty.call(PURE_NODES, kind);
}
