import { Global, Module } from '@nestjs/common';
import { Clock } from './clock';
import { EventBus } from './events/event-bus';
import { HttpDrain } from './http/http-drain';
import { Retention } from './retention';
import { TracingShutdown } from './tracing/start-tracing';

@Global()
@Module({ providers: [Clock, EventBus, HttpDrain, Retention, TracingShutdown], exports: [Clock, EventBus, Retention] })
export class CommonModule {}
