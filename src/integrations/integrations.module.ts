import { Module } from '@nestjs/common';
import { PlansModule } from '../plans/plans.module';
import { IntegrationsService } from './integrations.service';

/** OAuth connections and the provider lookups the web client makes, on a server with no provider configured. */
@Module({
  imports: [PlansModule],
  providers: [IntegrationsService],
  exports: [IntegrationsService],
})
export class IntegrationsModule {}
