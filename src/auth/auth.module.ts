import { Module } from '@nestjs/common';
import { CredentialVerifier } from '../common/auth/credential-verifier';
import { ApiKeysService } from './api-keys.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { PassportAuthenticator } from './passport-authenticator';
import { PasswordHasher } from './password-hasher';
import { SessionsService } from './sessions.service';

@Module({
  controllers: [AuthController],
  providers: [
    AuthService,
    SessionsService,
    ApiKeysService,
    PasswordHasher,
    { provide: CredentialVerifier, useClass: PassportAuthenticator },
  ],
  exports: [CredentialVerifier],
})
export class AuthModule {}
