import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { GraphNode, NodeExecutor } from './node-types';
import { IntegrationGates } from './integration-gates';
import { EmailNode } from './nodes/email.node';
import { HttpNode } from './nodes/http.node';
import { MessagingNode } from './nodes/messaging.node';
import { isPureNodeKind, PURE_NODES, PureNodeKind, PureNodeLimits } from './nodes/pure-nodes';
import { UnavailableIntegrationNode, UnknownNodeType } from './nodes/unavailable.node';
// g:node imports (npm run g:node adds generated node types above this line)

/** Node `type` values (docs/contract.md §5.1) handled by one executor each. */
const BY_NODE_TYPE: Record<string, string> = {
  trigger: 'trigger',
  condition: 'condition',
  delay: 'delay',
  logicDelay: 'delay',
  wait: 'delay',
  formatter: 'formatter',
  logicformatter: 'formatter',
  transform: 'formatter',
};

/** UI action node types whose `data.actionType` is missing (older graphs): the type names the action. */
const ACTION_FROM_TYPE: [RegExp, string][] = [
  [/^actionhttp/i, 'http'],
  [/^actioncode/i, 'code'],
  [/^actionemail/i, 'email'],
  [/^action(slack|teams|googlechat)/i, 'messaging'],
  [/^actionsheets/i, 'sheets'],
  [/^actionnotion/i, 'notion'],
  [/^actionasana/i, 'asana'],
];

/** OAuth-connected apps: pluggable providers that this server does not have yet (docs/contract.md §5.1). */
const INTEGRATION_NAMES: Record<string, string> = {
  sheets: 'Google Sheets',
  notion: 'Notion',
  asana: 'Asana',
};

/** The executor key of a logic node type (own keys only: a type named `constructor` is not one). */
function typeKind(node: Pick<GraphNode, 'type'>): string | null {
  return Object.prototype.hasOwnProperty.call(BY_NODE_TYPE, node.type) ? BY_NODE_TYPE[node.type] : null;
}

/** A user-supplied name in a message: JSON-quoted, cut to a readable length. */
const quoted = (name: string) => JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);

export function isActionNode(node: Pick<GraphNode, 'type'>): boolean {
  return node.type === 'action' || node.type.startsWith('action');
}

/** The one place node types are registered (docs/extending.md). */
@Injectable()
export class NodeRegistry {
  private readonly byNodeType: Record<string, NodeExecutor>;
  private readonly byAction: Record<string, NodeExecutor>;

  constructor(config: AppConfig, gates: IntegrationGates) {
    const limits: PureNodeLimits = {
      code: { timeoutMs: config.engine.codeTimeoutMs, memoryBytes: config.engine.codeMemoryBytes },
    };
    this.byNodeType = {
      trigger: PURE_NODES.trigger(),
      condition: PURE_NODES.condition(),
      delay: PURE_NODES.delay(),
      formatter: PURE_NODES.formatter(),
    };
    // No OAuth connection provider yet: Slack bot and Teams delegated posts fail clearly (docs/contract.md §5.1).
    const messaging = new MessagingNode({ gate: (run, platform) => gates.messaging(run, platform), connections: null });
    this.byAction = {
      http: new HttpNode(),
      code: PURE_NODES.code(limits),
      email: new EmailNode({
        sendgridBaseUrl: config.providers.sendgridBaseUrl,
        mailgunBaseUrl: config.providers.mailgunBaseUrl,
        mailgunEuBaseUrl: config.providers.mailgunEuBaseUrl,
        sesEndpoint: (region) => config.providers.sesBaseUrl.replace('{region}', region),
      }),
      ...Object.fromEntries(
        ['messaging', 'slack', 'teams', 'microsoftteams', 'googlechat'].map((kind) => [kind, messaging]),
      ),
      ...Object.fromEntries(
        Object.entries(INTEGRATION_NAMES).map(([key, name]) => [key, new UnavailableIntegrationNode(name)]),
      ),
      // g:node registrations (npm run g:node adds generated action types above this line)
    };
  }

  /** The action kind of a node: lower-cased `data.actionType`, else implied by a UI node type. */
  actionKind(node: GraphNode): string | null {
    const declared = node.data.actionType;
    if (typeof declared === 'string' && declared.trim()) return declared.trim().toLowerCase();
    return ACTION_FROM_TYPE.find(([pattern]) => pattern.test(node.type))?.[1] ?? null;
  }

  /** The pure node type a node is executed as (in an engine thread), or null for the others. */
  pureKind(node: GraphNode): PureNodeKind | null {
    if (this.unknownReason(node)) return null;
    const kind = typeKind(node) ?? (isActionNode(node) ? this.actionKind(node) : null);
    return kind !== null && isPureNodeKind(kind) ? kind : null;
  }

  /**
   * Why this server cannot run a node (its `type`, or the action its `actionType` or UI type names,
   * is not registered), or null when it can. Integrations this server knows of but has no provider
   * for are registered: they fail at run time with their own "not available" message.
   */
  unknownReason(node: { type?: unknown; data?: unknown }): string | null {
    if (typeof node.type !== 'string' || !node.type.trim()) return 'node has no type';
    const graphNode = node as GraphNode;
    if (typeKind(graphNode)) return null;
    if (!isActionNode(graphNode)) return `unknown node type ${quoted(node.type)}`;
    const data = node.data !== null && typeof node.data === 'object' ? (node.data as Record<string, unknown>) : {};
    const action = this.actionKind({ ...graphNode, data });
    if (action === null) return `action node type ${quoted(node.type)} names no actionType`;
    return Object.prototype.hasOwnProperty.call(this.byAction, action) ? null : `unknown actionType ${quoted(action)}`;
  }

  /** The executor of a node; an unknown one gets an executor that fails the node with the reason. */
  resolve(node: GraphNode): NodeExecutor {
    const reason = this.unknownReason(node);
    if (reason) return new UnknownNodeType(reason);
    const kind = typeKind(node);
    if (kind) return this.byNodeType[kind];
    return this.byAction[this.actionKind(node)!];
  }
}
