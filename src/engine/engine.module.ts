import { Module } from '@nestjs/common';
import { SecretsModule } from '../secrets/secrets.module';
import { NodeRegistry } from './node-registry';
import { RunExecutor } from './run-executor';

@Module({
  imports: [SecretsModule],
  providers: [NodeRegistry, RunExecutor],
  exports: [RunExecutor],
})
export class EngineModule {}
