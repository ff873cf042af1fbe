import { Injectable } from '@nestjs/common';
import { EventEmitter2, OnEvent } from '@nestjs/event-emitter';
import { AppEventMap, AppEventName } from './app-events';

@Injectable()
export class EventBus {
  constructor(private readonly emitter: EventEmitter2) {}

  emit<K extends AppEventName>(name: K, payload: AppEventMap[K]): void {
    this.emitter.emit(name, payload);
  }
}

/** `@OnEvent` restricted to names of the typed map. */
export const OnAppEvent = (name: AppEventName) => OnEvent(name);
