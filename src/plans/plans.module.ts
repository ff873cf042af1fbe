import { Module } from '@nestjs/common';
import { PlanGuard } from './plan.guard';
import { PlansService, StoredPlanVerifier, SubscriptionVerifier } from './plans.service';
import { RunQuotaService } from './run-quota.service';
import { UserSettingsController } from './user-settings.controller';
import { UsageController } from './usage.controller';
import { UsageService } from './usage.service';
import { UserSettingsService } from './user-settings.service';

@Module({
  controllers: [UserSettingsController, UsageController],
  providers: [
    PlansService,
    PlanGuard,
    UserSettingsService,
    RunQuotaService,
    UsageService,
    { provide: SubscriptionVerifier, useClass: StoredPlanVerifier },
  ],
  exports: [PlansService, PlanGuard, RunQuotaService],
})
export class PlansModule {}
