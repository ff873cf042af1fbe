import { Module } from '@nestjs/common';
import { IssuesService } from './issues.service';

/** Support threads between users and the application's operators. */
@Module({ providers: [IssuesService], exports: [IssuesService] })
export class SupportModule {}
