import { Module } from '@nestjs/common';
import { PlanGuard } from './plan.guard';
import { PlansService, StoredPlanVerifier, SubscriptionVerifier } from './plans.service';

@Module({
  providers: [PlansService, PlanGuard, { provide: SubscriptionVerifier, useClass: StoredPlanVerifier }],
  exports: [PlansService, PlanGuard],
})
export class PlansModule {}
