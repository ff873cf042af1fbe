import { Module } from '@nestjs/common';
import { PlansModule } from '../plans/plans.module';
import { SecretsModule } from '../secrets/secrets.module';
import { IntegrationGates } from './integration-gates';
import { NodeRegistry } from './node-registry';
import { RunExecutor } from './run-executor';

@Module({
  imports: [SecretsModule, PlansModule],
  providers: [NodeRegistry, RunExecutor, IntegrationGates],
  exports: [RunExecutor],
})
export class EngineModule {}
