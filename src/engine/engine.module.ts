import { Module } from '@nestjs/common';
import { PlansModule } from '../plans/plans.module';
import { SecretsModule } from '../secrets/secrets.module';
import { NodeRegistry } from './node-registry';
import { RunExecutor } from './run-executor';
import { NodeThreadPool, PureNodeRunner } from './threads/node-thread-pool';

@Module({
  imports: [SecretsModule, PlansModule],
  providers: [NodeRegistry, RunExecutor, { provide: PureNodeRunner, useClass: NodeThreadPool }],
  exports: [RunExecutor, NodeRegistry],
})
export class EngineModule {}
