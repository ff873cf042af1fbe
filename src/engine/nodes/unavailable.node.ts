import { GraphNode, NodeError, NodeExecutor, NodeTypeInfo } from '../node-types';

/** Their params are the provider's to define; nothing is read while there is none. */
export class UnavailableIntegrationParams {}

const WORKSPACE_PLAN = 'Workspace plan: a Solo workflow holding one cannot be saved or started.';

function unavailable(kind: string, title: string, uiType: string, planGate: string | null): NodeTypeInfo {
  return {
    kind,
    category: 'action',
    title,
    description: `${title} actions need an OAuth connection provider, which this server does not have: such a node can be saved but fails when it runs.`,
    nodeTypes: ['action', uiType],
    actionTypes: [kind],
    paramsField: 'params',
    params: UnavailableIntegrationParams,
    outputs: {},
    planGate,
    available: false,
  };
}

/** OAuth-connected apps this server knows of but has no provider for (docs/contract.md §5.1). */
export const UNAVAILABLE_NODES: readonly NodeTypeInfo[] = [
  unavailable('sheets', 'Google Sheets', 'actionSheets', WORKSPACE_PLAN),
  unavailable('notion', 'Notion', 'actionNotion', WORKSPACE_PLAN),
  unavailable('asana', 'Asana', 'actionAsana', null),
];

/**
 * Integrations whose delivery needs a provider this server does not have yet (email, chat,
 * OAuth-connected apps). They fail with a clear error rather than pretending to succeed
 * (docs/contract.md §5.1); the node's `stopOnError` decides what happens next.
 */
export class UnavailableIntegrationNode implements NodeExecutor {
  constructor(private readonly integration: string) {}

  async execute(node: GraphNode): Promise<never> {
    void node;
    throw new NodeError(
      `${this.integration} actions are not available on this server: no ${this.integration} provider is configured`,
    );
  }
}

/**
 * A node whose type (or action) this server does not provide. DSentr let such a node "succeed" as
 * `{"skipped":true}`; here it fails with the reason, so a misspelled type cannot pass unnoticed.
 * Saving a workflow refuses such nodes already; this covers graphs stored before that check.
 */
export class UnknownNodeType implements NodeExecutor {
  constructor(readonly reason: string) {}

  async execute(): Promise<never> {
    throw new NodeError(`This server cannot run this node: ${this.reason}`);
  }
}
