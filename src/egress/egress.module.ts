import { Global, Logger, Module, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { Clock } from '../common/clock';
import { Retention } from '../common/retention';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import { EgressBlockRepository } from '../database/repositories/egress-block.repository';
import { EgressBlock, GuardedOutboundHttp } from './guarded-outbound-http';
import { OutboundHttp } from './outbound-http';
import { REDACTOR as redactor } from '../secrets/redactor';

/** A blocked URL as the block log keeps it: no query or fragment, and the run's secrets masked (a path can hold one). */
export function loggableUrl(raw: string, secrets: readonly string[] = []): string {
  try {
    const url = new URL(raw);
    return redactor.redactString(`${url.protocol}//${url.host}${url.pathname}`, secrets);
  } catch {
    return '[unparsable url]';
  }
}

/**
 * The one outbound HTTP client every workflow call goes through (docs/contract.md §7): the egress policy and
 * the SSRF guard, with every block written to `egress_block_events`.
 */
@Global()
@Module({
  providers: [
    {
      provide: OutboundHttp,
      inject: [AppConfig, EgressBlockRepository, Clock, Metrics],
      useFactory: (config: AppConfig, blocks: EgressBlockRepository, clock: Clock, metrics: Metrics) =>
        new GuardedOutboundHttp({
          maxResponseBytes: config.engine.httpMaxResponseBytes,
          settings: config.egress,
          onBlocked: async (block: EgressBlock) => {
            metrics.egressBlocks.inc({ rule: block.rule });
            if (!block.origin) return;
            await blocks.record(
              {
                userId: block.origin.ownerId,
                workflowId: block.origin.workflowId,
                runId: block.origin.runId,
                nodeId: block.origin.nodeId,
                url: loggableUrl(block.url, block.origin.secrets),
                host: block.host,
                rule: block.rule,
                message: redactor.redactString(block.message, block.origin.secrets),
              },
              clock.now(),
            );
          },
        }),
    },
  ],
  exports: [OutboundHttp],
})
export class EgressModule implements OnModuleInit, OnApplicationBootstrap {
  constructor(
    private readonly config: AppConfig,
    private readonly retention: Retention,
    private readonly blocks: EgressBlockRepository,
  ) {}

  /** Block records are kept as long as runs (RUN_RETENTION_DAYS; 0 keeps them). */
  onModuleInit(): void {
    this.retention.register({
      name: 'egress_blocks',
      prune: async (now) => {
        const days = this.config.runs.retentionDays;
        return days > 0 ? this.blocks.pruneOlderThan(new Date(now.getTime() - days * 86_400_000)) : 0;
      },
    });
  }

  onApplicationBootstrap(): void {
    if (this.config.egress.allowPrivateNetworks) {
      new Logger('Egress').warn(
        'EGRESS_ALLOW_PRIVATE_NETWORKS=true: the SSRF guard is off, workflows may call loopback, private and cloud metadata addresses. Use it for local development only.',
      );
    }
  }
}
