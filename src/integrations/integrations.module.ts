import { Module } from '@nestjs/common';
import { PlansModule } from '../plans/plans.module';
import { OAuthController, WorkspaceConnectionsController } from './integrations.controller';
import { IntegrationsService } from './integrations.service';
import { ProviderDataController } from './provider-data.controller';

/** OAuth connections and the provider lookups the web client makes, on a server with no provider configured. */
@Module({
  imports: [PlansModule],
  controllers: [OAuthController, WorkspaceConnectionsController, ProviderDataController],
  providers: [IntegrationsService],
})
export class IntegrationsModule {}
