import { Global, Module } from '@nestjs/common';
import { Mailer, MailTransportTuning } from './mailer';

/** Runloom's own e-mail, available everywhere. */
@Global()
@Module({ providers: [Mailer, MailTransportTuning], exports: [Mailer] })
export class MailModule {}
