import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AccountModule } from './account/account.module';
import { AuthModule } from './auth/auth.module';
import { AuthGuard } from './common/auth/auth.guard';
import { CsrfGuard } from './common/auth/csrf.guard';
import { CommonModule } from './common/common.module';
import { AllExceptionsFilter } from './common/errors/exception.filter';
import { HealthModule } from './common/health/health.module';
import { JsonBodyMiddleware } from './common/http/json-body.middleware';
import { loggerParams } from './common/http/logging';
import { RequestContextMiddleware } from './common/http/request-context';
import { AuthAttemptGuard, RateLimiter, RateLimitMiddleware } from './common/http/rate-limit';
import { RequestValidationPipe } from './common/http/validation.pipe';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { IntegrationsModule } from './integrations/integrations.module';
import { HttpMetricsMiddleware } from './metrics/http-metrics.middleware';
import { MetricsModule } from './metrics/metrics.module';
import { MailModule } from './mail/mail.module';
import { MonitorModule } from './monitor/monitor.module';
import { DatabaseModule } from './database/database.module';
import { PlanGuard } from './plans/plan.guard';
import { PlansModule } from './plans/plans.module';
import { EgressModule } from './egress/egress.module';
import { EventsModule } from './events/events.module';
import { RunsModule } from './runs/runs.module';
import { SupportModule } from './support/support.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { WorkflowsModule } from './workflows/workflows.module';
import { WorkspacesModule } from './workspaces/workspaces.module';

@Module({})
export class AppModule implements NestModule {
  /** The whole application for a validated configuration (main.ts and the e2e tests use this). */
  static register(config: AppConfig, options: { logDestination?: DestinationStream } = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerParams(config, options.logDestination)),
        EventEmitterModule.forRoot(),
        ScheduleModule.forRoot(),
        CommonModule,
        MailModule,
        DatabaseModule,
        MetricsModule,
        MonitorModule,
        HealthModule,
        PlansModule,
        AuthModule,
        AccountModule,
        WorkspacesModule,
        SupportModule,
        EgressModule,
        IntegrationsModule,
        // Static routes (/api/workflows/runs…) must precede the `/:id` routes: streams, runs, then workflows.
        EventsModule,
        RunsModule,
        WebhooksModule,
        WorkflowsModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        { provide: APP_PIPE, useClass: RequestValidationPipe },
        // Order matters: a throttled auth attempt costs nothing (429), then who is calling (401),
        // then CSRF (403), then plan gates (403).
        { provide: APP_GUARD, useClass: AuthAttemptGuard },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: CsrfGuard },
        { provide: APP_GUARD, useExisting: PlanGuard },
        RateLimiter,
        RateLimitMiddleware,
        JsonBodyMiddleware,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    // Timed first, so a request refused by the rate limit or the body parser is measured too.
    // The request context last: nothing after it (body reading) can lose it.
    consumer
      .apply(HttpMetricsMiddleware, RateLimitMiddleware, JsonBodyMiddleware, RequestContextMiddleware)
      .forRoutes('*path');
  }
}
