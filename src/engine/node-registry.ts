import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { GraphNode, NodeError, NodeExecutor, NodeTypeInfo } from './node-types';
import { IntegrationGates } from '../plans/integration-gates';
import { CODE_NODE } from './nodes/code.node';
import { CONDITION_NODE } from './nodes/condition.node';
import { DELAY_NODE } from './nodes/delay.node';
import { EMAIL_NODE, EmailNode } from './nodes/email.node';
import { FORMATTER_NODE } from './nodes/formatter.node';
import { HTTP_NODE, HttpNode } from './nodes/http.node';
import { MESSAGING_NODE, MessagingNode } from './nodes/messaging.node';
import { isPureNodeKind, PURE_NODES, PureNodeKind, PureNodeLimits } from './nodes/pure-nodes';
import { TRIGGER_NODE } from './nodes/trigger.node';
import { UNAVAILABLE_NODES, UnavailableIntegrationNode, UnknownNodeType } from './nodes/unavailable.node';
// g:node imports (npm run g:node adds generated node types above this line)

/**
 * Every node type this server knows, in catalogue order: `GET /api/node-types` and docs/nodes.md
 * list them, and the registry below resolves graph nodes by their `nodeTypes` and `actionTypes`.
 */
export const NODE_TYPES: readonly NodeTypeInfo[] = [
  TRIGGER_NODE,
  CONDITION_NODE,
  DELAY_NODE,
  FORMATTER_NODE,
  HTTP_NODE,
  CODE_NODE,
  EMAIL_NODE,
  MESSAGING_NODE,
  ...UNAVAILABLE_NODES,
  // g:node catalogue (npm run g:node adds generated node types above this line)
];

/** Trigger and logic nodes by their exact `type` (docs/contract.md §5.1). */
const BY_NODE_TYPE = new Map(
  NODE_TYPES.filter((info) => info.category !== 'action').flatMap((info) =>
    info.nodeTypes.map((type) => [type, info.kind] as const),
  ),
);

/**
 * UI action node types whose `data.actionType` is missing (older graphs): the type names the action
 * by prefix, in any case (`actionHttp…` → http).
 */
const ACTION_FROM_TYPE: [prefix: string, kind: string][] = NODE_TYPES.filter(
  (info) => info.category === 'action',
).flatMap((info) =>
  info.nodeTypes.filter((type) => type !== 'action').map((type) => [type.toLowerCase(), info.kind] as [string, string]),
);

/** The action kind a UI action node type names by its prefix, in any case (`actionHttpRequest` → http), or null. */
export function actionKindFromType(type: string): string | null {
  const lower = type.toLowerCase();
  return ACTION_FROM_TYPE.find(([prefix]) => lower.startsWith(prefix))?.[1] ?? null;
}

/** Action kinds by lower-cased `data.actionType`. */
const BY_ACTION_TYPE = new Map(
  NODE_TYPES.flatMap((info) => info.actionTypes.map((type) => [type.toLowerCase(), info.kind] as const)),
);

/** The kind of a trigger or logic node. */
function typeKind(node: Pick<GraphNode, 'type'>): string | null {
  return BY_NODE_TYPE.get(node.type) ?? null;
}

/** A user-supplied name in a message: JSON-quoted, cut to a readable length. */
const quoted = (name: string) => JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);

export function isActionNode(node: Pick<GraphNode, 'type'>): boolean {
  return node.type === 'action' || node.type.startsWith('action');
}

/** The one place node types are registered (docs/extending.md): `NODE_TYPES` and their executors. */
@Injectable()
export class NodeRegistry {
  /** Executors by catalogue kind. */
  private readonly executors: ReadonlyMap<string, NodeExecutor>;
  /** Executors by lower-cased `data.actionType`. */
  private readonly byAction: Record<string, NodeExecutor>;

  constructor(config: AppConfig, gates: IntegrationGates) {
    const limits: PureNodeLimits = {
      code: { timeoutMs: config.engine.codeTimeoutMs, memoryBytes: config.engine.codeMemoryBytes },
    };
    const executors: Record<string, NodeExecutor> = {
      trigger: PURE_NODES.trigger(),
      condition: PURE_NODES.condition(),
      delay: PURE_NODES.delay(),
      formatter: PURE_NODES.formatter(),
      http: new HttpNode(),
      code: PURE_NODES.code(limits),
      email: new EmailNode({
        sendgridBaseUrl: config.providers.sendgridBaseUrl,
        mailgunBaseUrl: config.providers.mailgunBaseUrl,
        mailgunEuBaseUrl: config.providers.mailgunEuBaseUrl,
        sesEndpoint: (region) => config.providers.sesBaseUrl.replace('{region}', region),
      }),
      // No OAuth connection provider yet: Slack bot and Teams delegated posts fail clearly (docs/contract.md §5.1).
      messaging: new MessagingNode({
        gate: async (run, platform) => {
          const refusal = await gates.messagingRefusal(run, platform);
          if (refusal) throw new NodeError(refusal);
        },
        connections: null,
      }),
      ...Object.fromEntries(UNAVAILABLE_NODES.map((info) => [info.kind, new UnavailableIntegrationNode(info.title)])),
      // g:node registrations (npm run g:node adds generated action types above this line)
    };
    this.executors = new Map(Object.entries(executors));
    assertRegistered(this.executors);
    this.byAction = Object.fromEntries([...BY_ACTION_TYPE].map(([type, kind]) => [type, this.executors.get(kind)!]));
  }

  /** What the catalogue lists (`GET /api/node-types`). */
  catalogue(): readonly NodeTypeInfo[] {
    return NODE_TYPES;
  }

  /** The action kind of a node: lower-cased `data.actionType`, else implied by a UI node type. */
  actionKind(node: GraphNode): string | null {
    const declared = node.data.actionType;
    if (typeof declared === 'string' && declared.trim()) return declared.trim().toLowerCase();
    return actionKindFromType(node.type);
  }

  /** The pure node type a node is executed as (in an engine thread), or null for the others. */
  pureKind(node: GraphNode): PureNodeKind | null {
    const kind = this.kindOf(node);
    return kind !== null && isPureNodeKind(kind) ? kind : null;
  }

  /**
   * Why this server cannot run a node (its `type`, or the action its `actionType` or UI type names,
   * is not registered), or null when it can. Integrations this server knows of but has no provider
   * for are registered: they fail at run time with their own "not available" message. Nodes come
   * from the graph parser (src/engine/graph.ts): a missing type reads as ''.
   */
  unknownReason(node: GraphNode): string | null {
    if (!node.type.trim()) return 'node has no type';
    if (typeKind(node)) return null;
    if (!isActionNode(node)) return `unknown node type ${quoted(node.type)}`;
    const action = this.actionKind(node);
    if (action === null) return `action node type ${quoted(node.type)} names no actionType`;
    return Object.prototype.hasOwnProperty.call(this.byAction, action) ? null : `unknown actionType ${quoted(action)}`;
  }

  /** The executor of a node; an unknown one gets an executor that fails the node with the reason. */
  resolve(node: GraphNode): NodeExecutor {
    const reason = this.unknownReason(node);
    if (reason) return new UnknownNodeType(reason);
    const kind = typeKind(node);
    if (kind) return this.executors.get(kind)!;
    return this.byAction[this.actionKind(node)!];
  }

  /** The catalogue kind a node runs as, or null when this server cannot run it. */
  private kindOf(node: GraphNode): string | null {
    if (this.unknownReason(node)) return null;
    return typeKind(node) ?? BY_ACTION_TYPE.get(this.actionKind(node)!)!;
  }
}

/** Every catalogue entry has an executor and the other way round; no `type` or `actionType` is claimed twice. */
function assertRegistered(executors: ReadonlyMap<string, NodeExecutor>): void {
  const problems: string[] = [];
  const kinds = new Set(NODE_TYPES.map((info) => info.kind));
  if (kinds.size !== NODE_TYPES.length) problems.push('a kind is listed twice');
  for (const kind of kinds) if (!executors.has(kind)) problems.push(`${kind} has no executor`);
  for (const kind of executors.keys()) if (!kinds.has(kind)) problems.push(`${kind} is not in NODE_TYPES`);
  const claims = (names: string[]) => new Set(names).size !== names.length;
  if (claims(NODE_TYPES.filter((i) => i.category !== 'action').flatMap((i) => i.nodeTypes))) {
    problems.push('a node type names two trigger or logic kinds');
  }
  if (claims(NODE_TYPES.flatMap((i) => i.actionTypes.map((t) => t.toLowerCase())))) {
    problems.push('an actionType names two kinds');
  }
  if (problems.length) throw new Error(`Node types are registered inconsistently: ${problems.join('; ')}`);
}
