import { Module } from '@nestjs/common';
import { SecretsController, WorkspaceSecretsController } from './secrets.controller';
import { SecretsService } from './secrets.service';

@Module({
  controllers: [SecretsController, WorkspaceSecretsController],
  providers: [SecretsService],
  exports: [SecretsService],
})
export class SecretsModule {}
