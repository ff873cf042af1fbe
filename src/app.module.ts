import { DynamicModule, Module, Type } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AccountModule } from './account/account.module';
import { ApiModule } from './api.module';
import { AuthModule } from './auth/auth.module';
import { CommonModule } from './common/common.module';
import { loggerParams } from './common/http/logging';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { EgressModule } from './egress/egress.module';
import { EventsModule } from './events/events.module';
import { HealthModule, OpsModule } from './health/health.module';
import { IntegrationsModule } from './integrations/integrations.module';
import { MailModule } from './mail/mail.module';
import { MetricsModule } from './metrics/metrics.module';
import { NotificationsModule } from './notifications/notifications.module';
import { PlansModule } from './plans/plans.module';
import { RunsModule } from './runs/runs.module';
import { SchedulerModule } from './scheduler.module';
import { SupportModule } from './support/support.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { WorkerModule } from './worker.module';
import { WorkflowEgressModule } from './workflow-egress/workflow-egress.module';
import { WorkflowsModule } from './workflows/workflows.module';
import { WorkspacesModule } from './workspaces/workspaces.module';

/** Whether the process serves the API on PORT (main.ts listens only then): the api role's module is in it. */
export function servesApi(config: AppConfig): boolean {
  return config.roles.has('api');
}

/**
 * The application as RUNLOOM_ROLES composes it (docs/architecture.md, Roles): the core set every
 * process has (configuration, logging, events, database, and the feature modules' providers,
 * without their controllers), then what each role adds: ApiModule (every controller, the global
 * guards, pipe and filter, the HTTP middleware) or, without the api role, the operations
 * listener; WorkerModule (the claim loop); SchedulerModule (the Scheduler). A role that is off
 * has no provider in the process, so nothing asks "am I this role".
 */
@Module({})
export class AppModule {
  /** The application for a validated configuration (main.ts and the e2e tests use this). */
  static register(config: AppConfig, options: { logDestination?: DestinationStream } = {}): DynamicModule {
    const api = servesApi(config);
    const roles: Type[] = [api ? ApiModule : OpsModule];
    if (config.roles.has('worker')) roles.push(WorkerModule);
    if (config.roles.has('scheduler')) roles.push(SchedulerModule);
    // Request logging (pino-http) is HTTP middleware too: none without the api role.
    const logger = { ...loggerParams(config, options.logDestination), ...(api ? {} : { forRoutes: [] }) };
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(logger),
        EventEmitterModule.forRoot(),
        CommonModule,
        MailModule,
        DatabaseModule,
        MetricsModule,
        HealthModule,
        PlansModule,
        AuthModule,
        AccountModule,
        WorkspacesModule,
        SupportModule,
        EgressModule,
        WorkflowEgressModule,
        IntegrationsModule,
        EventsModule,
        RunsModule,
        WebhooksModule,
        WorkflowsModule,
        NotificationsModule,
        ...roles,
      ],
    };
  }
}
