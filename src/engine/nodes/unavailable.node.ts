import { GraphNode, NodeError, NodeExecutor } from '../node-types';

/**
 * Integrations whose delivery needs a provider this server does not have yet (email, chat,
 * OAuth-connected apps). They fail with a clear error rather than pretending to succeed
 * (SPEC §5); the node's `stopOnError` decides what happens next.
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

/** Reference §5.1/§5.6: unknown node and action types succeed with `{"skipped":true}`. */
export class SkippedNode implements NodeExecutor {
  constructor(private readonly reason?: string) {}

  async execute(): Promise<{ outputs: Record<string, unknown> }> {
    return { outputs: this.reason ? { skipped: true, reason: this.reason } : { skipped: true } };
  }
}
