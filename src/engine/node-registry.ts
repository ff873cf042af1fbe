import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { GraphNode, NodeExecutor } from './node-types';
import { IntegrationGates } from './integration-gates';
import { EmailNode } from './nodes/email.node';
import { HttpNode } from './nodes/http.node';
import { MessagingNode } from './nodes/messaging.node';
import { isPureNodeKind, PURE_NODES, PureNodeKind, PureNodeLimits } from './nodes/pure-nodes';
import { SkippedNode, UnavailableIntegrationNode } from './nodes/unavailable.node';
// g:node imports (npm run g:node adds generated node types above this line)

/** Node `type` values (reference §5.1) handled by one executor each. */
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

/** OAuth-connected apps: pluggable providers that this server does not have yet (SPEC §5). */
const INTEGRATION_NAMES: Record<string, string> = {
  sheets: 'Google Sheets',
  notion: 'Notion',
  asana: 'Asana',
};

/** The executor key of a logic node type (own keys only: a type named `constructor` is not one). */
function typeKind(node: Pick<GraphNode, 'type'>): string | null {
  return Object.prototype.hasOwnProperty.call(BY_NODE_TYPE, node.type) ? BY_NODE_TYPE[node.type] : null;
}

export function isActionNode(node: Pick<GraphNode, 'type'>): boolean {
  return node.type === 'action' || node.type.startsWith('action');
}

/** The one place node types are registered (DESIGN §2). */
@Injectable()
export class NodeRegistry {
  private readonly byNodeType: Record<string, NodeExecutor>;
  private readonly byAction: Record<string, NodeExecutor>;
  private readonly skipped = new SkippedNode();
  private readonly unsupportedAction = new SkippedNode('unsupported actionType');

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
    // No OAuth connection provider yet: Slack bot and Teams delegated posts fail clearly (SPEC §5).
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
    const kind = typeKind(node) ?? (isActionNode(node) ? this.actionKind(node) : null);
    return kind !== null && isPureNodeKind(kind) && this.resolve(node) !== this.unsupportedAction ? kind : null;
  }

  resolve(node: GraphNode): NodeExecutor {
    const kind = typeKind(node);
    if (kind) return this.byNodeType[kind];
    if (!isActionNode(node)) return this.skipped;
    const action = this.actionKind(node);
    return (
      (action && Object.prototype.hasOwnProperty.call(this.byAction, action) && this.byAction[action]) ||
      this.unsupportedAction
    );
  }
}
