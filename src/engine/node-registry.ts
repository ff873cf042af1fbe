import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { GraphNode, NodeExecutor } from './node-types';
import { CodeNode } from './nodes/code.node';
import { ConditionNode } from './nodes/condition.node';
import { DelayNode } from './nodes/delay.node';
import { FormatterNode } from './nodes/formatter.node';
import { HttpNode } from './nodes/http.node';
import { TriggerNode } from './nodes/trigger.node';
import { SkippedNode, UnavailableIntegrationNode } from './nodes/unavailable.node';

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

const INTEGRATION_NAMES: Record<string, string> = {
  email: 'Email',
  messaging: 'Messaging',
  slack: 'Slack',
  teams: 'Microsoft Teams',
  microsoftteams: 'Microsoft Teams',
  googlechat: 'Google Chat',
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

  constructor(config: AppConfig) {
    this.byNodeType = {
      trigger: new TriggerNode(),
      condition: new ConditionNode(),
      delay: new DelayNode(),
      formatter: new FormatterNode(),
    };
    this.byAction = {
      http: new HttpNode(),
      code: new CodeNode({ timeoutMs: config.engine.codeTimeoutMs, memoryBytes: config.engine.codeMemoryBytes }),
      ...Object.fromEntries(
        Object.entries(INTEGRATION_NAMES).map(([key, name]) => [key, new UnavailableIntegrationNode(name)]),
      ),
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
