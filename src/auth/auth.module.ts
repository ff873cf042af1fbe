import { Module } from '@nestjs/common';
import { WorkspacesModule } from '../workspaces/workspaces.module';
import { AccountEmailController } from './account-email.controller';
import { AccountEmailService } from './account-email.service';
import { ApiKeysService } from './api-keys.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { PasswordHasher } from './password-hasher';
import { SessionsService } from './sessions.service';

@Module({
  imports: [WorkspacesModule],
  controllers: [AuthController, AccountEmailController],
  providers: [AuthService, AccountEmailService, SessionsService, ApiKeysService, PasswordHasher],
  // The global AuthGuard checks sessions and API keys with these; the account module checks and
  // changes passwords and ends sessions the same way.
  exports: [PasswordHasher, SessionsService, ApiKeysService],
})
export class AuthModule {}
