import { Module, OnModuleInit } from '@nestjs/common';
import { EngineModule } from './engine/engine.module';
import { HealthModule, HeartbeatModule } from './health/health.module';
import { HealthService } from './health/health.service';
import { NotificationDispatchModule } from './notifications/notifications.module';
import { PlansModule } from './plans/plans.module';
import { RunJournals } from './runs/run-journals';
import { RunWorker } from './runs/run-worker';
import { SecretsModule } from './secrets/secrets.module';

/** The worker role (docs/architecture.md, Roles): the claim loop and what only it needs. */
@Module({
  imports: [EngineModule, PlansModule, SecretsModule, HealthModule, HeartbeatModule, NotificationDispatchModule],
  providers: [RunWorker, RunJournals],
})
export class WorkerModule implements OnModuleInit {
  constructor(
    private readonly health: HealthService,
    private readonly worker: RunWorker,
  ) {}

  /** Readiness checks this process's claim loop. */
  onModuleInit(): void {
    this.health.watchWorkerLoop(this.worker);
  }
}
