import { Injectable } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import type { ArgOf } from './app-events';
import { EventBus, OnAppEvent } from './event-bus';

@Injectable()
class Listener {
  readonly seen: ArgOf<'run.paused'>[] = [];
  readonly names: string[] = [];

  @OnAppEvent('run.paused')
  onPaused(event: ArgOf<'run.paused'>): void {
    this.seen.push(event);
  }

  @OnAppEvent('workflow.created')
  @OnAppEvent('workflow.deleted')
  onWorkflow(event: ArgOf<'workflow.created'> | ArgOf<'workflow.deleted'>): void {
    this.names.push(event.workflowId);
  }
}

// Compile-time checks (tsc covers spec files): a handler must take its event's payload.
class Mistyped {
  // @ts-expect-error -- a node event is not a plan change
  @OnAppEvent('workspace.plan_changed')
  onPlan(event: ArgOf<'node.started'>): void {
    void event;
  }

  @OnAppEvent('run.queued')
  wake(): void {}
}

describe('EventBus and @OnAppEvent', () => {
  it('delivers an emitted payload, as is, to the handlers of its name', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [EventEmitterModule.forRoot()],
      providers: [EventBus, Listener],
    }).compile();
    await moduleRef.init();
    const bus = moduleRef.get(EventBus);
    const listener = moduleRef.get(Listener);

    const paused = { runId: 'r', workflowId: 'w', workspaceId: null, ownerId: 'o', resumeAt: '2026-01-01T00:00:00Z' };
    bus.emit('run.paused', paused);
    bus.emit('workflow.created', { workflowId: 'w1', workspaceId: null, actorId: 'a', updatedAt: 'x' });
    bus.emit('workflow.deleted', { workflowId: 'w2', workspaceId: null, actorId: 'a' });
    bus.emit('run.queued', { runId: 'r', workflowId: 'w', workspaceId: null, ownerId: 'o' });

    expect(listener.seen).toEqual([paused]);
    expect(listener.seen[0]).toBe(paused);
    expect(listener.names).toEqual(['w1', 'w2']);
    expect(new Mistyped()).toBeDefined();
    await moduleRef.close();
  });
});
