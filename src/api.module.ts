import { Logger, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { AccountAuthController, AccountController } from './account/account.controller';
import { AccountModule } from './account/account.module';
import { AccountEmailController } from './auth/account-email.controller';
import { AuthController } from './auth/auth.controller';
import { AuthGuard } from './auth/auth.guard';
import { AuthModule } from './auth/auth.module';
import { CsrfGuard } from './common/auth/csrf.guard';
import { AllExceptionsFilter } from './common/errors/exception.filter';
import { AuthAttemptGuard, RateLimiter } from './common/http/rate-limit';
import { RequestValidationPipe } from './common/http/validation.pipe';
import { AppConfig } from './config/app-config';
import { HttpMetricsHook } from './metrics/http-metrics.hook';
import { EngineModule } from './engine/engine.module';
import { NodeTypesController } from './engine/node-types.controller';
import { EventsModule } from './events/events.module';
import { StreamsController } from './events/streams.controller';
import { HealthController } from './health/health.controller';
import { HealthModule } from './health/health.module';
import { OAuthController, WorkspaceConnectionsController } from './integrations/integrations.controller';
import { IntegrationsModule } from './integrations/integrations.module';
import { ProviderDataController } from './integrations/provider-data.controller';
import { MetricsController } from './metrics/metrics.controller';
import { MonitorController } from './monitor/monitor.controller';
import { PlanGuard } from './plans/plan.guard';
import { PlansModule } from './plans/plans.module';
import { UsageController } from './plans/usage.controller';
import { UserSettingsController } from './plans/user-settings.controller';
import { AdminRunsController } from './runs/admin-runs.controller';
import { RunsController } from './runs/runs.controller';
import { RunsModule } from './runs/runs.module';
import { SecretsController, WorkspaceSecretsController } from './secrets/secrets.controller';
import { SecretsModule } from './secrets/secrets.module';
import { AdminIssuesController, IssuesController } from './support/issues.controller';
import { SupportModule } from './support/support.module';
import { WebhooksController } from './webhooks/webhooks.controller';
import { WebhooksModule } from './webhooks/webhooks.module';
import { EgressController } from './workflow-egress/egress.controller';
import { WorkflowEgressModule } from './workflow-egress/workflow-egress.module';
import { NotificationsController } from './notifications/notifications.controller';
import { NotificationsModule } from './notifications/notifications.module';
import { WorkflowVersionsController } from './workflows/workflow-versions.controller';
import { WorkflowsController } from './workflows/workflows.controller';
import { WorkflowsModule } from './workflows/workflows.module';
import { InvitesController, WorkspaceInvitationsController } from './workspaces/invitations.controller';
import { OnboardingController } from './workspaces/onboarding.controller';
import { WorkspacesController } from './workspaces/workspaces.controller';
import { WorkspacesModule } from './workspaces/workspaces.module';

/**
 * The api role (docs/architecture.md, Roles): every HTTP route, the global guards, pipe and
 * filter, the rate limiter and the request timing (server hooks). The feature modules it imports are the core set's; they export
 * what their controllers need. A process without this module maps no route.
 */
@Module({
  imports: [
    HealthModule,
    PlansModule,
    AuthModule,
    AccountModule,
    WorkspacesModule,
    SupportModule,
    WorkflowEgressModule,
    IntegrationsModule,
    EventsModule,
    RunsModule,
    WebhooksModule,
    WorkflowsModule,
    NotificationsModule,
    SecretsModule,
    EngineModule,
  ],
  // The OpenAPI document's order. (The router prefers static segments to parameters whatever the
  // order: /api/workflows/runs/events is never taken for WorkflowsController's /api/workflows/:id.)
  controllers: [
    MetricsController,
    MonitorController,
    HealthController,
    UserSettingsController,
    UsageController,
    AuthController,
    AccountEmailController,
    AccountController,
    AccountAuthController,
    OnboardingController,
    WorkspacesController,
    WorkspaceInvitationsController,
    InvitesController,
    IssuesController,
    AdminIssuesController,
    EgressController,
    OAuthController,
    WorkspaceConnectionsController,
    ProviderDataController,
    StreamsController,
    RunsController,
    AdminRunsController,
    WebhooksController,
    WorkflowsController,
    WorkflowVersionsController,
    NotificationsController,
    SecretsController,
    WorkspaceSecretsController,
    NodeTypesController,
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
    HttpMetricsHook,
  ],
})
export class ApiModule implements OnApplicationBootstrap {
  constructor(private readonly config: AppConfig) {}

  onApplicationBootstrap(): void {
    if (this.config.opsPort !== null) {
      new Logger('Operations').log(`OPS_PORT ignored: the api role serves /healthz, /readyz and /metrics on PORT`);
    }
  }
}
