import { Global, Logger, Module, OnApplicationBootstrap } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import { EgressBlockRepository } from '../database/repositories/egress-block.repository';
import { EgressController } from './egress.controller';
import { EgressService } from './egress.service';
import { EgressBlock, GuardedOutboundHttp } from './guarded-outbound-http';
import { OutboundHttp } from './outbound-http';
import { REDACTOR as redactor } from '../secrets/redactor';
import { WorkflowAccessModule } from '../workflows/workflow-access.module';

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
  imports: [WorkflowAccessModule],
  controllers: [EgressController],
  providers: [
    EgressService,
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
export class EgressModule implements OnApplicationBootstrap {
  constructor(private readonly config: AppConfig) {}

  onApplicationBootstrap(): void {
    if (this.config.egress.allowPrivateNetworks) {
      new Logger('Egress').warn(
        'EGRESS_ALLOW_PRIVATE_NETWORKS=true: the SSRF guard is off, workflows may call loopback, private and cloud metadata addresses. Use it for local development only.',
      );
    }
  }
}
