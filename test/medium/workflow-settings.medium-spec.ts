import { EventEmitter2 } from '@nestjs/event-emitter';
import type { ArgOf } from '../../src/common/events/app-events';
import { AppError, ErrorCode } from '../../src/common/errors/app-error';
import { WorkflowRepository } from '../../src/database/repositories/workflow.repository';
import { WorkflowAccessModule } from '../../src/workflows/workflow-access.module';
import { WorkflowSettings } from '../../src/workflows/workflow-settings';
import { graph, trigger } from '../factories/workflow.factory';
import { createMedium, Medium } from '../utils/medium';

/**
 * WorkflowSettings on a real database: a setting changed outside the graph save (concurrency,
 * egress allowlist, webhook config) is written and announced as `workflow.updated`, as a save is.
 */
describe('WorkflowSettings', () => {
  let m: Medium;
  let settings: WorkflowSettings;
  const updates: ArgOf<'workflow.updated'>[] = [];
  beforeAll(async () => {
    m = await createMedium({ imports: [WorkflowAccessModule] });
    settings = m.get(WorkflowSettings);
    m.get(EventEmitter2).on('workflow.updated', (event: ArgOf<'workflow.updated'>) => updates.push(event));
  });
  afterAll(() => m.close());

  it('writes the change and announces it with the actor and the new updated_at', async () => {
    const owner = await m.make.user({ plan: 'workspace' });
    const workflow = await m.make.workflow(owner, { workspaceId: owner.soloWorkspaceId, data: graph([trigger()]) });
    m.clock.advance(1_000);
    const updated = await settings.update(owner.principal, workflow, { concurrencyLimit: 4 });
    expect(updated.concurrencyLimit).toBe(4);
    expect((await m.get(WorkflowRepository).findById(workflow.id))!.concurrencyLimit).toBe(4);
    expect(updated.updatedAt.getTime()).toBeGreaterThan(workflow.updatedAt.getTime());
    expect(updates.filter((e) => e.workflowId === workflow.id)).toEqual([
      {
        workflowId: workflow.id,
        workspaceId: owner.soloWorkspaceId,
        actorId: owner.principal.userId,
        updatedAt: updated.updatedAt.toISOString(),
      },
    ]);
  });

  it('a workflow deleted since the access check is a 404 and announces nothing', async () => {
    const owner = await m.make.user({ plan: 'workspace' });
    const workflow = await m.make.workflow(owner, { workspaceId: owner.soloWorkspaceId, data: graph([trigger()]) });
    await m.get(WorkflowRepository).delete(workflow.id);
    const outcome = await settings.update(owner.principal, workflow, { egressAllowlist: ['example.com'] }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(outcome).toBeInstanceOf(AppError);
    expect((outcome as AppError).code).toBe(ErrorCode.NotFound);
    expect(updates.some((e) => e.workflowId === workflow.id)).toBe(false);
  });
});
