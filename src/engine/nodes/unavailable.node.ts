import { GraphNode, NodeError, NodeExecutor } from '../node-types';

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
