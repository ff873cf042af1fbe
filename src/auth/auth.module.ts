import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { ApiKeysService } from './api-keys.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { PasswordHasher } from './password-hasher';
import { SessionsService } from './sessions.service';
import { ApiKeyStrategy } from './strategies/api-key.strategy';
import { BearerSessionStrategy, SessionCookieStrategy } from './strategies/session.strategy';

@Module({
  imports: [PassportModule],
  controllers: [AuthController],
  providers: [
    AuthService,
    SessionsService,
    ApiKeysService,
    PasswordHasher,
    SessionCookieStrategy,
    BearerSessionStrategy,
    ApiKeyStrategy,
  ],
})
export class AuthModule {}
