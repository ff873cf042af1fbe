import { Global, Module } from '@nestjs/common';
import { Clock } from './clock';
import { EventBus } from './events/event-bus';
import { HttpDrain } from './http/http-drain';

@Global()
@Module({ providers: [Clock, EventBus, HttpDrain], exports: [Clock, EventBus] })
export class CommonModule {}
