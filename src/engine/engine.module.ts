import { Module } from '@nestjs/common';
import { PlansModule } from '../plans/plans.module';
import { SecretsModule } from '../secrets/secrets.module';
import { IntegrationGates } from './integration-gates';
import { NodeRegistry } from './node-registry';
import { NodeTypesController } from './node-types.controller';
import { RunExecutor } from './run-executor';
import { NodeThreadPool, PureNodeRunner } from './threads/node-thread-pool';

@Module({
  imports: [SecretsModule, PlansModule],
  controllers: [NodeTypesController],
  providers: [NodeRegistry, RunExecutor, IntegrationGates, { provide: PureNodeRunner, useClass: NodeThreadPool }],
  exports: [RunExecutor, NodeRegistry],
})
export class EngineModule {}
