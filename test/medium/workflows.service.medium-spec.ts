import { AppError, ErrorCode, PlanViolationError } from '../../src/common/errors/app-error';
import { WorkflowLogRepository } from '../../src/database/repositories/workflow-log.repository';
import { WorkflowRepository } from '../../src/database/repositories/workflow.repository';
import { CreateWorkflowDto, UpdateWorkflowDto, WorkflowResponse } from '../../src/workflows/workflows.dto';
import { WorkflowsModule } from '../../src/workflows/workflows.module';
import { WorkflowsService } from '../../src/workflows/workflows.service';
import { graph, trigger } from '../factories/workflow.factory';
import { createMedium, Medium, TestUser } from '../utils/medium';

/** WorkflowsService on a real database: the create, update, lock and delete rules of docs/contract.md §2.2–2.7. */
describe('WorkflowsService', () => {
  let m: Medium;
  let service: WorkflowsService;
  beforeAll(async () => {
    m = await createMedium({ imports: [WorkflowsModule] });
    service = m.get(WorkflowsService);
  });
  afterAll(() => m.close());

  const formatter = {
    id: 'fmt',
    type: 'formatter',
    data: { label: 'Upper', config: { operation: 'string.uppercase', input: 'a', output_key: 'a' } },
  };
  const createDto = (over: Partial<CreateWorkflowDto> = {}): CreateWorkflowDto => ({
    name: `Orders ${Math.random().toString(36).slice(2, 8)}`,
    data: graph([trigger()]),
    ...over,
  });
  const updateDto = (wf: WorkflowResponse, over: Partial<UpdateWorkflowDto> = {}): UpdateWorkflowDto => ({
    name: wf.name,
    description: wf.description,
    data: wf.data,
    updated_at: new Date(wf.updated_at!),
    ...over,
  });
  /** The error a call rejects with (the test fails if it resolves). */
  const refusal = async (call: Promise<unknown>): Promise<AppError | PlanViolationError> => {
    const outcome = await call.then(
      () => undefined,
      (error: unknown) => error,
    );
    if (!(outcome instanceof AppError || outcome instanceof PlanViolationError)) {
      throw new Error(`expected a refusal, got ${outcome instanceof Error ? outcome.stack : 'success'}`);
    }
    return outcome;
  };

  /** A workspace with its owner and one member of each other role. */
  const team = async () => {
    const owner = await m.make.user({ plan: 'workspace' });
    const ws = owner.soloWorkspaceId;
    const members: Record<'admin' | 'user' | 'viewer', TestUser> = {
      admin: await m.make.user({ plan: 'workspace' }),
      user: await m.make.user({ plan: 'workspace' }),
      viewer: await m.make.user({ plan: 'workspace' }),
    };
    for (const [role, u] of Object.entries(members)) await m.make.member(ws, owner, u, role as 'admin');
    return { owner, ws, ...members };
  };
  const stored = (id: string) => m.get(WorkflowRepository).findById(id);

  describe('create', () => {
    it('stores the trimmed name in the workspace named by workspace_id, stamped with the clock', async () => {
      const { owner, ws } = await team();
      const { workflow } = await service.create(owner.principal, createDto({ name: '  Invoices  ', workspace_id: ws }));
      expect(workflow).toMatchObject({ name: 'Invoices', workspace_id: ws, user_id: owner.user.id });
      expect(workflow.updated_at).toBe(m.clock.now().toISOString().replace('.000Z', 'Z'));
      expect((await stored(workflow.id))!.name).toBe('Invoices');
    });

    it('refuses a duplicate name in the same scope, ignoring case, with 409', async () => {
      const { owner, ws } = await team();
      await service.create(owner.principal, createDto({ name: 'Billing', workspace_id: ws }));
      const error = await refusal(service.create(owner.principal, createDto({ name: 'BILLING ', workspace_id: ws })));
      expect(error).toMatchObject({
        code: ErrorCode.Conflict,
        status: 409,
        message: 'A workflow with this name already exists',
      });
    });

    it('allows the same name in another scope', async () => {
      const { owner, ws, admin } = await team();
      await service.create(owner.principal, createDto({ name: 'Shared name', workspace_id: ws }));
      const personal = await service.create(
        admin.principal,
        createDto({ name: 'Shared name', workspace_id: admin.soloWorkspaceId }),
      );
      expect(personal.workflow.name).toBe('Shared name');
    });

    it('refuses an invalid graph before anything is written', async () => {
      const owner = await m.make.user({ plan: 'workspace' });
      const data = graph([trigger()], [['trigger-1', 'missing']]);
      const error = await refusal(service.create(owner.principal, createDto({ name: 'Broken', data })));
      expect(error).toMatchObject({ code: ErrorCode.InvalidRequest });
      expect(error.message).toMatch(/^Invalid workflow graph: /);
      expect(await m.get(WorkflowRepository).listCreatedBy(owner.user.id)).toEqual([]);
    });

    it('keeps a Solo user to three personal workflows', async () => {
      const solo = await m.make.user({ plan: 'solo' });
      for (let i = 0; i < 3; i += 1) await service.create(solo.principal, createDto());
      const error = await refusal(service.create(solo.principal, createDto()));
      expect(error).toBeInstanceOf(PlanViolationError);
      expect((error as PlanViolationError).violations).toEqual([expect.objectContaining({ code: 'workflow-limit' })]);
      expect(await m.get(WorkflowRepository).personalIdsOldestFirst(solo.user.id)).toHaveLength(3);
    });

    it('refuses workspace viewers with 403', async () => {
      const { viewer, ws } = await team();
      const error = await refusal(service.create(viewer.principal, createDto({ workspace_id: ws })));
      expect(error).toMatchObject({ code: ErrorCode.Forbidden, message: 'Workspace viewers cannot create workflows.' });
    });

    it('refuses a workspace the caller is not a member of with 403', async () => {
      const { ws } = await team();
      const stranger = await m.make.user({ plan: 'workspace' });
      const error = await refusal(service.create(stranger.principal, createDto({ workspace_id: ws })));
      expect(error).toMatchObject({ code: ErrorCode.Forbidden, message: 'You do not have access to this workspace.' });
    });
  });

  describe('update and optimistic concurrency', () => {
    const created = async (caller: TestUser, workspaceId?: string) =>
      (await service.create(caller.principal, createDto({ workspace_id: workspaceId }))).workflow;

    it('an update carrying the current token saves, moves the token to the clock and writes a change-log row', async () => {
      const { owner, ws } = await team();
      const wf = await created(owner, ws);
      m.clock.advance(60_000);
      const { workflow } = await service.update(
        owner.principal,
        wf.id,
        undefined,
        updateDto(wf, {
          data: graph([trigger(), formatter], [['trigger-1', 'fmt']]),
        }),
      );
      expect(new Date(workflow.updated_at!).getTime()).toBe(m.clock.now().getTime());
      expect((await stored(wf.id))!.data).toMatchObject({ nodes: [{ id: 'trigger-1' }, { id: 'fmt' }] });
      const logs = await m.get(WorkflowLogRepository).listForWorkflow(wf.id, 10);
      expect(logs).toHaveLength(1);
      expect(logs[0]).toMatchObject({
        userId: owner.user.id,
        diffs: expect.arrayContaining([expect.objectContaining({ path: expect.stringContaining('nodes') })]),
      });
    });

    it('a stale token is a 409 conflict carrying the current copy, and nothing is written', async () => {
      const { owner, ws } = await team();
      const wf = await created(owner, ws);
      m.clock.advance(1_000);
      const saved = (await service.update(owner.principal, wf.id, undefined, updateDto(wf, { name: 'Second' })))
        .workflow;
      m.clock.advance(1_000);
      const error = await refusal(service.update(owner.principal, wf.id, undefined, updateDto(wf, { name: 'Third' })));
      expect(error).toMatchObject({ code: ErrorCode.WorkflowConflict, status: 409 });
      expect((error as AppError).extra).toEqual({ workflow: saved });
      expect((await stored(wf.id))!.name).toBe('Second');
      expect(await m.get(WorkflowLogRepository).listForWorkflow(wf.id, 10)).toHaveLength(1);
    });

    it('a workspace workflow saved without a token is a 409 conflict', async () => {
      const { owner, ws } = await team();
      const wf = await created(owner, ws);
      const error = await refusal(
        service.update(owner.principal, wf.id, undefined, updateDto(wf, { updated_at: undefined })),
      );
      expect(error).toMatchObject({ code: ErrorCode.WorkflowConflict });
    });

    it('a personal workflow may be saved without a token', async () => {
      const solo = await m.make.user({ plan: 'solo' });
      const wf = await created(solo);
      const { workflow } = await service.update(
        solo.principal,
        wf.id,
        undefined,
        updateDto(wf, { name: 'Renamed', updated_at: undefined }),
      );
      expect(workflow.name).toBe('Renamed');
    });

    it('a workspace viewer may not save (403), a user member may', async () => {
      const { owner, ws, viewer, user } = await team();
      const wf = await created(owner, ws);
      const error = await refusal(
        service.update(viewer.principal, wf.id, undefined, updateDto(wf, { name: 'By viewer' })),
      );
      expect(error).toMatchObject({ code: ErrorCode.Forbidden, message: 'Workspace viewers cannot modify workflows.' });
      const { workflow } = await service.update(user.principal, wf.id, undefined, updateDto(wf, { name: 'By user' }));
      expect(workflow.name).toBe('By user');
    });

    it('someone who cannot see the workflow gets 404, as for one that does not exist', async () => {
      const { owner, ws } = await team();
      const wf = await created(owner, ws);
      const stranger = await m.make.user({ plan: 'workspace' });
      const error = await refusal(service.update(stranger.principal, wf.id, undefined, updateDto(wf)));
      expect(error).toMatchObject({ code: ErrorCode.NotFound, message: 'Workflow not found' });
    });
  });

  describe('locks', () => {
    it('locking moves the concurrency token: a save holding the earlier token is a conflict', async () => {
      const { owner, ws } = await team();
      const wf = (await service.create(owner.principal, createDto({ workspace_id: ws }))).workflow;
      m.clock.advance(1_000);
      const locked = (await service.lock(owner.principal, wf.id)).workflow;
      expect(locked).toMatchObject({ locked_by: owner.user.id });
      expect(locked.updated_at).not.toBe(wf.updated_at);
      const error = await refusal(service.update(owner.principal, wf.id, undefined, updateDto(wf)));
      expect(error).toMatchObject({ code: ErrorCode.WorkflowConflict });
    });

    it('a workflow locked by an admin refuses other user members (403); admins and the owner still edit it', async () => {
      const { owner, ws, admin, user } = await team();
      let wf = (await service.create(user.principal, createDto({ workspace_id: ws }))).workflow;
      m.clock.advance(1_000);
      wf = (await service.lock(admin.principal, wf.id)).workflow;
      const other = await m.make.user({ plan: 'workspace' });
      await m.make.member(ws, owner, other, 'user');
      const error = await refusal(service.update(other.principal, wf.id, undefined, updateDto(wf, { name: 'Nope' })));
      expect(error).toMatchObject({
        code: ErrorCode.Forbidden,
        message: 'This workflow is locked and can only be modified by the creator or an admin.',
      });
      expect((await stored(wf.id))!.name).toBe(wf.name);
      for (const editor of [admin, owner]) {
        m.clock.advance(1_000);
        wf = (await service.update(editor.principal, wf.id, undefined, updateDto(wf, { name: `By ${editor.user.id}` })))
          .workflow;
      }
      expect((await stored(wf.id))!.name).toBe(`By ${owner.user.id}`);
    });

    it('only the creator or an admin may lock: a user member gets 403', async () => {
      const { owner, ws, user } = await team();
      const wf = (await service.create(owner.principal, createDto({ workspace_id: ws }))).workflow;
      const error = await refusal(service.lock(user.principal, wf.id));
      expect(error).toMatchObject({ code: ErrorCode.Forbidden });
      expect((await stored(wf.id))!.lockedBy).toBeNull();
    });

    it('unlocking clears the lock; unlocking an unlocked workflow changes nothing, the token included', async () => {
      const { owner, ws } = await team();
      const wf = (await service.create(owner.principal, createDto({ workspace_id: ws }))).workflow;
      m.clock.advance(1_000);
      await service.lock(owner.principal, wf.id);
      m.clock.advance(1_000);
      const unlocked = (await service.unlock(owner.principal, wf.id)).workflow;
      expect(unlocked).toMatchObject({ locked_by: null, locked_at: null });
      m.clock.advance(1_000);
      const again = (await service.unlock(owner.principal, wf.id)).workflow;
      expect(again.updated_at).toBe(unlocked.updated_at);
    });
  });

  describe('delete', () => {
    it('the creator of a personal workflow deletes it; it is gone (404 afterwards)', async () => {
      const solo = await m.make.user({ plan: 'solo' });
      const wf = (await service.create(solo.principal, createDto())).workflow;
      expect(await service.delete(solo.principal, wf.id)).toEqual({ success: true });
      expect(await stored(wf.id)).toBeNull();
      const error = await refusal(service.delete(solo.principal, wf.id));
      expect(error).toMatchObject({ code: ErrorCode.NotFound, message: 'Workflow not found' });
    });

    it('a workspace member who may see but not delete gets 403, not 404', async () => {
      const { owner, ws, user } = await team();
      const wf = (await service.create(user.principal, createDto({ workspace_id: ws }))).workflow;
      const error = await refusal(service.delete(user.principal, wf.id));
      expect(error).toMatchObject({
        code: ErrorCode.Forbidden,
        message: 'Only a workspace admin or owner can delete workspace workflows.',
      });
      expect(await stored(wf.id)).not.toBeNull();
      await service.delete(owner.principal, wf.id);
      expect(await stored(wf.id)).toBeNull();
    });

    it("deleting a workspace workflow leaves a change-log entry on the workspace's other workflows", async () => {
      const { owner, ws, admin } = await team();
      const kept = (await service.create(owner.principal, createDto({ workspace_id: ws }))).workflow;
      const gone = (await service.create(owner.principal, createDto({ workspace_id: ws }))).workflow;
      await service.delete(admin.principal, gone.id);
      const [entry] = await m.get(WorkflowLogRepository).listForWorkflow(kept.id, 10);
      expect(entry).toMatchObject({ userId: admin.user.id, workspaceId: ws });
      expect(entry.diffs).toEqual([
        { path: 'actor', from: null, to: `Ada Lovelace <${admin.user.email}>` },
        { path: 'workflow.deleted', from: gone.name, to: gone.id },
      ]);
    });
  });
});
