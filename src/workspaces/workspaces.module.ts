import { Module } from '@nestjs/common';
import { PlansModule } from '../plans/plans.module';
import { InvitationTokens } from './invitation-tokens';
import { InvitesController, WorkspaceInvitationsController } from './invitations.controller';
import { InvitationsService } from './invitations.service';
import { WorkspacesController } from './workspaces.controller';
import { WorkspacesService } from './workspaces.service';

@Module({
  imports: [PlansModule],
  controllers: [WorkspacesController, WorkspaceInvitationsController, InvitesController],
  providers: [WorkspacesService, InvitationsService, InvitationTokens],
  exports: [WorkspacesService],
})
export class WorkspacesModule {}
