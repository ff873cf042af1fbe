import { Module } from '@nestjs/common';
import { AdminIssuesController, IssuesController } from './issues.controller';
import { IssuesService } from './issues.service';

/** Support threads between users and the application's operators. */
@Module({
  controllers: [IssuesController, AdminIssuesController],
  providers: [IssuesService],
})
export class SupportModule {}
