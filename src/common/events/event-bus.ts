import { Injectable } from '@nestjs/common';
import { EventEmitter2, OnEvent } from '@nestjs/event-emitter';
import type { AppEventName, ArgOf } from './app-events';

@Injectable()
export class EventBus {
  constructor(private readonly emitter: EventEmitter2) {}

  emit<E extends AppEventName>(name: E, payload: ArgOf<E>): void {
    this.emitter.emit(name, payload);
  }
}

/**
 * `@OnEvent` restricted to names of the typed map, and to handlers that take that event's payload
 * (or nothing): a handler declared with another payload type does not compile.
 */
export function OnAppEvent<E extends AppEventName>(name: E) {
  return <H extends (payload: ArgOf<E>) => unknown>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<H>,
  ): void => {
    OnEvent(name)(target, key, descriptor);
  };
}
