import { Module } from '@nestjs/common';
import { PlansModule } from '../plans/plans.module';
import { WorkflowAccessModule } from '../workflows/workflow-access.module';
import { InvitationTokens } from './invitation-tokens';
import { InvitationsService } from './invitations.service';
import { OnboardingService } from './onboarding.service';
import { WorkspacesService } from './workspaces.service';

@Module({
  imports: [PlansModule, WorkflowAccessModule],
  providers: [WorkspacesService, InvitationsService, InvitationTokens, OnboardingService],
  exports: [WorkspacesService, InvitationsService, OnboardingService],
})
export class WorkspacesModule {}
