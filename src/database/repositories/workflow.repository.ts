import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager, In, IsNull } from 'typeorm';
import { asRow, Db } from '../db.service';
import { DiffEntry, WorkflowLogEntity } from '../entities/workflow-log.entity';
import { WorkflowScheduleEntity } from '../entities/workflow-schedule.entity';
import { WorkflowEntity } from '../entities/workflow.entity';
import { WorkspaceMemberEntity, WorkspaceRole } from '../entities/workspace-member.entity';
import { SecretEntity } from '../entities/secret.entity';
import { UserEntity } from '../entities/user.entity';
import { WorkspaceEntity } from '../entities/workspace.entity';
import { JsonTextCache } from '../json-text-cache';
import { sql, Sql } from '../sql';
import { NewVersion, WorkflowVersionRepository } from './workflow-version.repository';

export type NewWorkflow = Pick<WorkflowEntity, 'userId' | 'workspaceId' | 'name' | 'description' | 'data'>;
export type WorkflowChanges = Partial<
  Pick<
    WorkflowEntity,
    | 'name'
    | 'description'
    | 'data'
    | 'lockedBy'
    | 'lockedAt'
    | 'concurrencyLimit'
    | 'concurrencyKey'
    | 'concurrencyKeyLimit'
    | 'concurrencyOnLimit'
    | 'maxQueued'
    | 'queuedTtlSec'
    | 'egressAllowlist'
    | 'requireHmac'
    | 'hmacReplayWindowSec'
    | 'webhookSalt'
  >
>;

/** What a save writes besides the workflow row, in the same transaction. */
export interface SaveSideEffects {
  log?: { userId: string; diffs: DiffEntry[] };
  schedule?: Omit<
    WorkflowScheduleEntity,
    // What the scheduler owns: a save leaves its record of firings and its claim alone.
    | 'id'
    | 'workflowId'
    | 'workflow'
    | 'createdAt'
    | 'updatedAt'
    | 'lastRunAt'
    | 'lastSkipReason'
    | 'lastSkippedAt'
    | 'claimedBy'
    | 'claimExpiresAt'
  > | null;
  secrets?: Omit<SecretEntity, 'user' | 'createdAt' | 'updatedAt'>[];
  /** The save makes a new version of the workflow (create, update, restore). */
  version?: NewVersion;
}

export interface WorkflowWithRole {
  workflow: WorkflowEntity;
  /** The caller's role in the workflow's workspace; null for personal workflows or non-members. */
  role: WorkspaceRole | null;
}

export const nameKey = (name: string) => name.trim().toLowerCase();

/** Text of the graphs the webhook path keeps parsed (a graph of 5,000 nodes is about 1.2 MB). */
const TRIGGER_GRAPH_CACHE_CHARS = 32 << 20;

@Injectable()
export class WorkflowRepository {
  private triggerTargetSql?: Sql;
  private readonly triggerGraphs = new JsonTextCache(TRIGGER_GRAPH_CACHE_CHARS);

  constructor(private readonly db: Db) {}

  private get repo() {
    return this.db.manager.getRepository(WorkflowEntity);
  }

  findById(id: string): Promise<WorkflowEntity | null> {
    return this.db.selectOne(WorkflowEntity, 'id = ?', [id]);
  }

  /**
   * A public webhook trigger's one read: the workflow with its (non-deleted) workspace and its
   * owner, whose settings hold the runaway-protection toggle. The graph is read as text and parsed
   * only when it changed since the last trigger: `workflow.data` is shared and frozen.
   */
  async findTriggerTarget(
    id: string,
  ): Promise<{ workflow: WorkflowEntity; workspace: WorkspaceEntity | null; owner: UserEntity | null } | null> {
    const workflows = this.db.codec(WorkflowEntity);
    const workspaces = this.db.codec(WorkspaceEntity);
    const users = this.db.codec(UserEntity);
    const select = (graph: string) =>
      `SELECT ${workflows.selectAs('w', 'w', ['data'])}, ${graph} AS "graph",
         ${workspaces.selectAs('ws', 'ws')}, ${users.selectAs('u', 'u')}
       FROM workflows w
       LEFT JOIN workspaces ws ON ws.id = w.workspace_id AND ws.deleted_at IS NULL
       LEFT JOIN users u ON u.id = w.user_id
       WHERE w.id = ?`;
    this.triggerTargetSql ??= sql(select('w."data"'), select('w."data"::text'));
    const { rows } = await this.db.read(this.triggerTargetSql, [id]);
    if (!rows.length) return null;
    const [row] = rows;
    const workflow = workflows.fromRow(row, 'w');
    workflow.data = this.triggerGraphs.parse(workflow.id, row.graph as string) as Record<string, unknown>;
    return {
      workflow,
      workspace: row['ws.id'] ? workspaces.fromRow(row, 'ws') : null,
      owner: row['u.id'] ? users.fromRow(row, 'u') : null,
    };
  }

  /**
   * The workflow with the caller's role, when they can see it: a personal workflow by its creator,
   * a workspace workflow by a current member of its workspace (its creator included, only while a
   * member). Null otherwise; callers answer 404 either way.
   */
  async findForMember(id: string, userId: string): Promise<WorkflowWithRole | null> {
    const workflow = await this.repo.findOneBy({ id });
    if (!workflow) return null;
    if (!workflow.workspaceId) return workflow.userId === userId ? { workflow, role: null } : null;
    const member = await this.db.manager
      .getRepository(WorkspaceMemberEntity)
      .findOneBy({ workspaceId: workflow.workspaceId, userId });
    return member ? { workflow, role: member.role } : null;
  }

  /** The user's personal workflows and every workflow of `workspaceIds` (their memberships). */
  listVisibleTo(userId: string, workspaceIds: string[]): Promise<WorkflowEntity[]> {
    return this.db.select(
      WorkflowEntity,
      '(user_id = ? AND workspace_id IS NULL) OR workspace_id IN (SELECT value FROM json_each(?)) ORDER BY updated_at DESC',
      [userId, this.db.list(workspaceIds)],
      '(user_id = ? AND workspace_id IS NULL) OR workspace_id = ANY(?::uuid[]) ORDER BY updated_at DESC',
    );
  }

  /** Every workflow the user created, in any workspace (usage counts them). */
  listCreatedBy(userId: string): Promise<WorkflowEntity[]> {
    return this.repo.find({ where: { userId } });
  }

  /**
   * Gives a workspace workflow to another member: the row and its schedule (which fires as the
   * workflow's owner) change together.
   */
  reassign(id: string, userId: string, now: Date): Promise<WorkflowEntity | null> {
    return this.db.transaction(async (em) => {
      const repo = em.getRepository(WorkflowEntity);
      const result = await repo.update({ id }, { userId, updatedAt: now });
      if (!result.affected) return null;
      // updated_at moves too: a firing claimed before the change must not act on the old owner.
      await em.getRepository(WorkflowScheduleEntity).update({ workflowId: id }, { userId, updatedAt: now });
      return repo.findOneByOrFail({ id });
    });
  }

  /**
   * Moves personal workflows into a workspace (onboarding shares them): the rows take the
   * workspace's scope and their schedules follow, all or nothing. A name already taken in the
   * workspace surfaces as a unique violation.
   */
  moveToWorkspace(ids: string[], workspaceId: string, now: Date): Promise<WorkflowEntity[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.transaction(async (em) => {
      const repo = em.getRepository(WorkflowEntity);
      const personal = await repo.find({ select: { id: true }, where: { id: In(ids), workspaceId: IsNull() } });
      const moving = personal.map((w) => w.id);
      if (!moving.length) return [];
      await repo.update({ id: In(moving) }, { workspaceId, scopeId: workspaceId, updatedAt: now });
      await em
        .getRepository(WorkflowScheduleEntity)
        .update({ workflowId: In(moving) }, { workspaceId, updatedAt: now });
      return repo.find({ where: { id: In(moving) }, order: { createdAt: 'ASC', id: 'ASC' } });
    });
  }

  /** Ids of the user's personal (workspace-less) workflows, oldest first. */
  async personalIdsOldestFirst(userId: string): Promise<string[]> {
    const rows = await this.repo.find({
      select: { id: true },
      where: { userId, workspaceId: IsNull() },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return rows.map((r) => r.id);
  }

  idsInWorkspace(workspaceId: string): Promise<string[]> {
    return this.repo.find({ select: { id: true }, where: { workspaceId } }).then((rows) => rows.map((r) => r.id));
  }

  /** Inserts a workflow with its side effects; a duplicate name surfaces as a unique violation. */
  create(values: NewWorkflow, effects: SaveSideEffects, now: Date): Promise<WorkflowEntity> {
    return this.db.transaction(async (em) => {
      const workflow = em.getRepository(WorkflowEntity).create({
        ...values,
        id: randomUUID(),
        scopeId: values.workspaceId ?? values.userId,
        nameKey: nameKey(values.name),
        concurrencyLimit: 1,
        concurrencyKey: null,
        concurrencyKeyLimit: null,
        concurrencyOnLimit: 'queue',
        maxQueued: null,
        queuedTtlSec: null,
        egressAllowlist: [],
        requireHmac: false,
        hmacReplayWindowSec: 300,
        webhookSalt: randomUUID(),
        version: 1,
        lockedBy: null,
        lockedAt: null,
        createdAt: now,
        updatedAt: now,
      });
      await em.getRepository(WorkflowEntity).insert(asRow<WorkflowEntity>(workflow));
      await this.applySideEffects(em, workflow, effects, now);
      return em.getRepository(WorkflowEntity).findOneByOrFail({ id: workflow.id });
    });
  }

  /**
   * Read-check-write under a row lock (PostgreSQL `FOR UPDATE`; SQLite writes are serialised):
   * `decide` sees the current row and either throws (nothing is written) or returns the changes.
   * Returns null when the workflow no longer exists.
   */
  updateChecked(
    id: string,
    now: Date,
    decide: (current: WorkflowEntity) => Promise<{ changes: WorkflowChanges; effects?: SaveSideEffects }>,
  ): Promise<{ previous: WorkflowEntity; workflow: WorkflowEntity } | null> {
    return this.db.transaction(async (em) => {
      const repo = em.getRepository(WorkflowEntity);
      const previous = await repo.findOne({
        where: { id },
        ...(this.db.dialect === 'postgres' ? { lock: { mode: 'pessimistic_write' as const } } : {}),
      });
      if (!previous) return null;
      const { changes, effects } = await decide(previous);
      const patch: Partial<WorkflowEntity> = { ...changes, updatedAt: now };
      if (changes.name !== undefined) patch.nameKey = nameKey(changes.name);
      // Under the row lock (SQLite: the writer): version numbers follow save order without gaps.
      if (effects?.version) patch.version = previous.version + 1;
      await repo.update({ id }, asRow<WorkflowEntity>(patch));
      const workflow = await repo.findOneByOrFail({ id });
      if (effects) await this.applySideEffects(em, workflow, effects, now);
      return { previous, workflow };
    });
  }

  /** Deletes the workflow (runs, logs, schedules… cascade) and fans a log entry out to the others. */
  delete(
    id: string,
    fanOut?: { workspaceId: string; userId: string; diffs: DiffEntry[] },
    now = new Date(),
  ): Promise<boolean> {
    return this.db.transaction(async (em) => {
      const result = await em.getRepository(WorkflowEntity).delete({ id });
      if (!result.affected) return false;
      if (fanOut) await this.fanOutLog(em, fanOut.workspaceId, fanOut.userId, fanOut.diffs, now);
      return true;
    });
  }

  /** Webhook HMAC needs a workspace plan; a downgrade turns it off (the concurrency token moves). */
  async disableHmacInWorkspace(workspaceId: string, now: Date): Promise<number> {
    const result = await this.db.write((em) =>
      em
        .getRepository(WorkflowEntity)
        .update({ workspaceId, requireHmac: true }, { requireHmac: false, updatedAt: now }),
    );
    return result.affected ?? 0;
  }

  /** A workspace history event (docs/contract.md §2.14): one log row on every workflow of the workspace. */
  fanOutWorkspaceLog(workspaceId: string, userId: string, diffs: DiffEntry[], now: Date): Promise<void> {
    return this.db.transaction((em) => this.fanOutLog(em, workspaceId, userId, diffs, now));
  }

  private async fanOutLog(
    em: EntityManager,
    workspaceId: string,
    userId: string,
    diffs: DiffEntry[],
    now: Date,
  ): Promise<void> {
    const ids = (await em.getRepository(WorkflowEntity).find({ select: { id: true }, where: { workspaceId } })).map(
      (w) => w.id,
    );
    if (!ids.length) return;
    await em
      .getRepository(WorkflowLogEntity)
      .insert(
        asRow<WorkflowLogEntity>(
          ids.map((workflowId) => ({ id: randomUUID(), userId, workflowId, workspaceId, diffs, createdAt: now })),
        ),
      );
  }

  private async applySideEffects(
    em: EntityManager,
    workflow: WorkflowEntity,
    effects: SaveSideEffects,
    now: Date,
  ): Promise<void> {
    if (effects.version) await WorkflowVersionRepository.record(em, workflow, effects.version, now);
    if (effects.log) {
      await em.getRepository(WorkflowLogEntity).insert(
        asRow<WorkflowLogEntity>({
          id: randomUUID(),
          userId: effects.log.userId,
          workflowId: workflow.id,
          workspaceId: workflow.workspaceId,
          diffs: effects.log.diffs,
          createdAt: now,
        }),
      );
    }
    if (effects.secrets?.length) {
      await em
        .getRepository(SecretEntity)
        .insert(effects.secrets.map((s) => ({ ...s, createdAt: now, updatedAt: now })));
    }
    if (effects.schedule !== undefined) {
      const schedules = em.getRepository(WorkflowScheduleEntity);
      const existing = await schedules.findOneBy({ workflowId: workflow.id });
      if (effects.schedule === null) {
        if (existing) await schedules.delete({ id: existing.id });
      } else if (existing) {
        await schedules.update(
          { id: existing.id },
          asRow<WorkflowScheduleEntity>({ ...effects.schedule, updatedAt: now }),
        );
      } else {
        await schedules.insert(
          asRow<WorkflowScheduleEntity>({
            ...effects.schedule,
            id: randomUUID(),
            workflowId: workflow.id,
            lastRunAt: null,
            createdAt: now,
            updatedAt: now,
          }),
        );
      }
    }
  }
}
