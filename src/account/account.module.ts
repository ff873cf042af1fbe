import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AccountDeletionService } from './account-deletion.service';
import { AccountService } from './account.service';

@Module({
  imports: [AuthModule],
  providers: [AccountService, AccountDeletionService],
  exports: [AccountService, AccountDeletionService],
})
export class AccountModule {}
