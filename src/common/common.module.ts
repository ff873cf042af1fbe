import { Global, Module } from '@nestjs/common';
import { Clock } from './clock';
import { EventBus } from './events/event-bus';

@Global()
@Module({ providers: [Clock, EventBus], exports: [Clock, EventBus] })
export class CommonModule {}
