import { Module } from '@nestjs/common';
import { PlansModule } from '../plans/plans.module';
import { WorkflowAccessModule } from '../workflows/workflow-access.module';
import { InvitationTokens } from './invitation-tokens';
import { InvitesController, WorkspaceInvitationsController } from './invitations.controller';
import { InvitationsService } from './invitations.service';
import { OnboardingController } from './onboarding.controller';
import { OnboardingService } from './onboarding.service';
import { WorkspacesController } from './workspaces.controller';
import { WorkspacesService } from './workspaces.service';

@Module({
  imports: [PlansModule, WorkflowAccessModule],
  // OnboardingController first: its static paths must be matched before the `:id` routes.
  controllers: [OnboardingController, WorkspacesController, WorkspaceInvitationsController, InvitesController],
  providers: [WorkspacesService, InvitationsService, InvitationTokens, OnboardingService],
  exports: [WorkspacesService, InvitationsService],
})
export class WorkspacesModule {}
