import { Module } from '@nestjs/common';
import { PlanGuard } from './plan.guard';
import { PlansService, StoredPlanVerifier, SubscriptionVerifier } from './plans.service';
import { UserSettingsController } from './user-settings.controller';
import { UserSettingsService } from './user-settings.service';

@Module({
  controllers: [UserSettingsController],
  providers: [
    PlansService,
    PlanGuard,
    UserSettingsService,
    { provide: SubscriptionVerifier, useClass: StoredPlanVerifier },
  ],
  exports: [PlansService, PlanGuard],
})
export class PlansModule {}
