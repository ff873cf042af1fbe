import { Module } from '@nestjs/common';
import { IntegrationGates } from './integration-gates';
import { PlanGuard } from './plan.guard';
import { PlansService, StoredPlanVerifier, SubscriptionVerifier } from './plans.service';
import { RunQuotaService } from './run-quota.service';
import { UsageService } from './usage.service';
import { UserSettingsService } from './user-settings.service';

@Module({
  providers: [
    PlansService,
    PlanGuard,
    UserSettingsService,
    RunQuotaService,
    IntegrationGates,
    UsageService,
    { provide: SubscriptionVerifier, useClass: StoredPlanVerifier },
  ],
  exports: [PlansService, PlanGuard, RunQuotaService, IntegrationGates, UserSettingsService, UsageService],
})
export class PlansModule {}
