import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { GraphNode, NodeExecutor } from './node-types';
import { IntegrationGates } from './integration-gates';
import { CodeNode } from './nodes/code.node';
import { ConditionNode } from './nodes/condition.node';
import { DelayNode } from './nodes/delay.node';
import { EmailNode } from './nodes/email.node';
import { FormatterNode } from './nodes/formatter.node';
import { HttpNode } from './nodes/http.node';
import { MessagingNode } from './nodes/messaging.node';
import { TriggerNode } from './nodes/trigger.node';
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
    this.byNodeType = {
      trigger: new TriggerNode(),
      condition: new ConditionNode(),
      delay: new DelayNode(),
      formatter: new FormatterNode(),
    };
    // No OAuth connection provider yet: Slack bot and Teams delegated posts fail clearly (SPEC §5).
    const messaging = new MessagingNode({ gate: (run, platform) => gates.messaging(run, platform), connections: null });
    this.byAction = {
      http: new HttpNode(),
      code: new CodeNode({ timeoutMs: config.engine.codeTimeoutMs, memoryBytes: config.engine.codeMemoryBytes }),
      email: new EmailNode({
        sendgridBaseUrl: config.providers.sendgridBaseUrl,
        mailgunBaseUrl: config.providers.mailgunBaseUrl,
        mailgunEuBaseUrl: config.providers.mailgunEuBaseUrl,
        sesEndpoint: (region) => config.providers.sesBaseUrl.replace('{region}', region),
        smtpGuard: (host) => gates.smtpHost(host),
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

  resolve(node: GraphNode): NodeExecutor {
    const kind = BY_NODE_TYPE[node.type];
    if (kind) return this.byNodeType[kind];
    if (!isActionNode(node)) return this.skipped;
    const action = this.actionKind(node);
    return (
      (action && Object.prototype.hasOwnProperty.call(this.byAction, action) && this.byAction[action]) ||
      this.unsupportedAction
    );
  }
}
