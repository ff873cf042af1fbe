import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AccountAuthController, AccountController } from './account.controller';
import { AccountDeletionService } from './account-deletion.service';
import { AccountService } from './account.service';

@Module({
  imports: [AuthModule],
  controllers: [AccountController, AccountAuthController],
  providers: [AccountService, AccountDeletionService],
})
export class AccountModule {}
