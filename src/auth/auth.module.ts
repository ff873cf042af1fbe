import { Module } from '@nestjs/common';
import { WorkspacesModule } from '../workspaces/workspaces.module';
import { AccountEmailService } from './account-email.service';
import { ApiKeysService } from './api-keys.service';
import { AuthService } from './auth.service';
import { PasswordHasher } from './password-hasher';
import { SessionsService } from './sessions.service';

@Module({
  imports: [WorkspacesModule],
  providers: [AuthService, AccountEmailService, SessionsService, ApiKeysService, PasswordHasher],
  // The global AuthGuard checks sessions and API keys with these; the account module checks and
  // changes passwords and ends sessions the same way. The rest are for the controllers (ApiModule).
  exports: [PasswordHasher, SessionsService, ApiKeysService, AuthService, AccountEmailService],
})
export class AuthModule {}
