import { Injectable } from '@nestjs/common';
import { EntityManager, FindOperator, In, IsNull, MoreThan, Not } from 'typeorm';
import { asRow, Db } from '../db.service';
import { WorkflowVersionRepository } from './workflow-version.repository';
import { ApiKeyEntity } from '../entities/api-key.entity';
import { EmailTokenEntity } from '../entities/email-token.entity';
import { ACTIVE_RUN_STATUSES, RunEntity } from '../entities/run.entity';
import { RunUsageEntity } from '../entities/run-usage.entity';
import { SecretEntity } from '../entities/secret.entity';
import { SessionEntity } from '../entities/session.entity';
import { UserEntity } from '../entities/user.entity';
import { DiffEntry, WorkflowLogEntity } from '../entities/workflow-log.entity';
import { WorkflowScheduleEntity } from '../entities/workflow-schedule.entity';
import { WorkflowEntity } from '../entities/workflow.entity';
import { WorkspaceInvitationEntity } from '../entities/workspace-invitation.entity';
import { WorkspaceMemberEntity } from '../entities/workspace-member.entity';
import { WorkspaceEntity } from '../entities/workspace.entity';

/** What deleting an account removes, as counted before it happens. */
export interface AccountFootprint {
  /** Workspaces the user owns; those with other members block the deletion. */
  owned: { workspace: WorkspaceEntity; otherMembers: number }[];
  /** Workflows the user owns in other people's workspaces: they stay there, owned by the workspace owner. */
  handOver: { workflow: WorkflowEntity; newOwnerId: string }[];
  counts: {
    /** Personal workflows and every workflow of the owned workspaces. */
    workflows: number;
    workflowRuns: number;
    /** History rows of the removed workflows (the user's entries elsewhere are kept, anonymised). */
    workflowLogs: number;
    memberWorkspaces: number;
    /** Pending invitations the user sent (withdrawn). */
    pendingInvitations: number;
    secrets: number;
    /** Of those, secrets shared with workspaces the user does not own. */
    sharedSecrets: number;
  };
}

/** A handed-over workflow as the service checked it: written only if it is still what was checked. */
export interface HandOver {
  workflowId: string;
  checkedUpdatedAt: Date;
  newOwnerId: string;
  data: Record<string, unknown>;
}

export type DeleteAccountResult =
  | {
      kind: 'deleted';
      sessionTokenHashes: string[];
      apiKeyIds: string[];
      /** Memberships of workspaces that stay (the user's own workspaces go). */
      leftWorkspaceIds: string[];
      deletedWorkflows: { id: string; workspaceId: string | null }[];
      /** Queued or running runs of the removed workflows: their execution stops. */
      activeRuns: Pick<RunEntity, 'id' | 'workflowId' | 'workspaceId' | 'ownerId'>[];
      handedOver: WorkflowEntity[];
    }
  | { kind: 'blocked'; workspaces: WorkspaceEntity[] }
  | { kind: 'changed' }
  | { kind: 'token_unusable' };

/** `column NOT IN ids` as a find condition; none for no ids (SQL has no empty list). */
function notIn<K extends string>(column: K, ids: string[]): Partial<Record<K, FindOperator<string>>> {
  return ids.length ? ({ [column]: Not(In(ids)) } as Record<K, FindOperator<string>>) : {};
}

/** Where the departing user's name and e-mail stood in history entries of workflows that stay. */
const FORMER_ACTOR = 'a deleted account';

/**
 * An account's data as a whole: what deleting it would remove, and the deletion itself. Everything
 * keyed to the user goes (sessions, API keys, secrets, memberships, personal workflows and their
 * runs, the workspaces they own alone, invitations they sent); what belongs to other people's
 * workspaces stays there.
 */
@Injectable()
export class AccountRepository {
  constructor(private readonly db: Db) {}

  /** A deletion link's token row by its hash, used or expired ones included (the caller says which). */
  findDeletionToken(tokenHash: string): Promise<EmailTokenEntity | null> {
    return this.db.manager.getRepository(EmailTokenEntity).findOneBy({ tokenHash, purpose: 'delete_account' });
  }

  footprint(userId: string, now: Date): Promise<AccountFootprint> {
    return this.footprintIn(this.db.manager, userId, now);
  }

  /**
   * Deletes the account in one transaction, after checking under lock (PostgreSQL) that it owns no
   * workspace with other members and that the workflows to hand over are the ones checked. The
   * deletion link is used up by the same transaction; nothing is written when any check fails.
   */
  deleteAccount(
    user: Pick<UserEntity, 'id' | 'email'>,
    tokenHash: string,
    handOver: HandOver[],
    now: Date,
  ): Promise<DeleteAccountResult> {
    const lock = this.db.dialect === 'postgres' ? { lock: { mode: 'pessimistic_write' as const } } : {};
    return this.db.transaction(async (em): Promise<DeleteAccountResult> => {
      const userId = user.id;
      // Locked first: an invitation accepted into one of these workspaces waits for us (it locks the row too).
      const owned = await em.getRepository(WorkspaceEntity).find({ where: { ownerId: userId }, ...lock });
      const ownedIds = owned.map((w) => w.id);
      const blocking = await this.withOtherMembers(em, userId, owned);
      if (blocking.length) return { kind: 'blocked', workspaces: blocking.map((b) => b.workspace) };

      const candidates = await em
        .getRepository(WorkflowEntity)
        .find({ where: { userId, workspaceId: Not(IsNull()) }, ...lock });
      const toHandOver = candidates.filter((w) => !ownedIds.includes(w.workspaceId!));
      const checked = new Map(handOver.map((h) => [h.workflowId, h]));
      const unchanged =
        toHandOver.length === handOver.length &&
        toHandOver.every((w) => checked.get(w.id)?.checkedUpdatedAt.getTime() === w.updatedAt.getTime());
      if (!unchanged) return { kind: 'changed' };

      const used = await em.getRepository(EmailTokenEntity).delete({
        tokenHash,
        userId,
        purpose: 'delete_account',
        usedAt: IsNull(),
        expiresAt: MoreThan(now),
      });
      if (!used.affected) return { kind: 'token_unusable' };

      // What the caller announces once this commits: credentials that stop working, runs to stop.
      const sessionTokenHashes = (
        await em.getRepository(SessionEntity).find({ select: { tokenHash: true }, where: { userId } })
      ).map((s) => s.tokenHash);
      const apiKeyIds = (
        await em.getRepository(ApiKeyEntity).find({ select: { id: true }, where: { userId, revokedAt: IsNull() } })
      ).map((k) => k.id);
      const leftWorkspaceIds = (
        await em.getRepository(WorkspaceMemberEntity).find({ where: { userId, ...notIn('workspaceId', ownedIds) } })
      ).map((m) => m.workspaceId);
      const deletedWorkflows = await this.removedWorkflows(em, userId).select(['w.id', 'w.workspaceId']).getMany();
      const deletedIds = deletedWorkflows.map((w) => w.id);
      const activeRuns = deletedIds.length
        ? await em.getRepository(RunEntity).find({
            select: { id: true, workflowId: true, workspaceId: true, ownerId: true },
            where: { workflowId: In(deletedIds), status: In(ACTIVE_RUN_STATUSES) },
          })
        : [];

      // Workflows of other people's workspaces stay there, with their owner; schedules follow.
      const handedOver: WorkflowEntity[] = [];
      for (const h of handOver) {
        const workflows = em.getRepository(WorkflowEntity);
        const { version } = await workflows.findOneByOrFail({ id: h.workflowId });
        await workflows.update(
          { id: h.workflowId },
          asRow<WorkflowEntity>({ userId: h.newOwnerId, data: h.data, version: version + 1, updatedAt: now }),
        );
        await em
          .getRepository(WorkflowScheduleEntity)
          .update({ workflowId: h.workflowId }, { userId: h.newOwnerId, updatedAt: now });
        const workflow = await workflows.findOneByOrFail({ id: h.workflowId });
        // The graph changed (references cleared): runs from now on name a version that holds it,
        // and restoring an older one is a save the new owner's credentials are checked for.
        await WorkflowVersionRepository.record(
          em,
          workflow,
          {
            createdBy: null,
            summary:
              "Handed over to the workspace owner when its owner's account was deleted; their secret references cleared",
            keep: Number.MAX_SAFE_INTEGER,
          },
          now,
        );
        handedOver.push(workflow);
      }

      await this.anonymiseHistory(em, userId, new Set(deletedIds));
      // Invitations to this address are answered: the person left, and the seats are free again.
      await em
        .getRepository(WorkspaceInvitationEntity)
        .update({ email: user.email.toLowerCase(), status: 'pending' }, { status: 'declined', declinedAt: now });
      // Workspaces the user created but no longer owns: their owner stands in as creator.
      await em
        .createQueryBuilder()
        .update(WorkspaceEntity)
        .set({ createdBy: () => 'owner_id' })
        .where('created_by = :userId AND owner_id <> :userId', { userId })
        .execute();
      await em.getRepository(RunUsageEntity).delete({ accountId: userId });
      // Cascades: their workflows, runs, members and invitations.
      if (ownedIds.length) await em.getRepository(WorkspaceEntity).delete({ id: In(ownedIds) });
      // Cascades: sessions, API keys, secrets, memberships, personal workflows, invitations sent, e-mail tokens.
      await em.getRepository(UserEntity).delete({ id: userId });

      return {
        kind: 'deleted',
        sessionTokenHashes,
        apiKeyIds,
        leftWorkspaceIds,
        deletedWorkflows: deletedWorkflows.map((w) => ({ id: w.id, workspaceId: w.workspaceId })),
        activeRuns,
        handedOver,
      };
    });
  }

  private async footprintIn(em: EntityManager, userId: string, now: Date): Promise<AccountFootprint> {
    const owned = await em
      .getRepository(WorkspaceEntity)
      .find({ where: { ownerId: userId }, order: { createdAt: 'ASC' } });
    const ownedIds = owned.map((w) => w.id);
    const others = new Map((await this.withOtherMembers(em, userId, owned)).map((b) => [b.workspace.id, b.count]));
    const handOver = await em
      .getRepository(WorkflowEntity)
      .createQueryBuilder('w')
      .innerJoin(WorkspaceEntity, 'ws', 'ws.id = w.workspace_id')
      .addSelect('ws.owner_id', 'new_owner_id')
      .where('w.user_id = :userId AND ws.owner_id <> :userId', { userId })
      .orderBy('w.created_at', 'ASC')
      .getRawAndEntities<{ new_owner_id: string }>();
    const removed = () => this.removedWorkflows(em, userId).select('w.id');
    const workflows = await this.removedWorkflows(em, userId).getCount();
    const workflowRuns = await em
      .getRepository(RunEntity)
      .createQueryBuilder('r')
      .where(`r.workflow_id IN (${removed().getQuery()})`)
      .setParameters(removed().getParameters())
      .getCount();
    const workflowLogs = await em
      .getRepository(WorkflowLogEntity)
      .createQueryBuilder('l')
      .where(`l.workflow_id IN (${removed().getQuery()})`)
      .setParameters(removed().getParameters())
      .getCount();
    const memberWorkspaces = await em
      .getRepository(WorkspaceMemberEntity)
      .countBy({ userId, ...notIn('workspaceId', ownedIds) });
    const pendingInvitations = await em
      .getRepository(WorkspaceInvitationEntity)
      .countBy({ createdBy: userId, status: 'pending', expiresAt: MoreThan(now) });
    const secrets = await em.getRepository(SecretEntity).countBy({ userId });
    const sharedSecrets = await em
      .getRepository(SecretEntity)
      // NOT IN leaves out personal (null) ones as well.
      .countBy({ userId, workspaceId: Not(IsNull()), ...notIn('workspaceId', ownedIds) });
    return {
      owned: owned.map((workspace) => ({ workspace, otherMembers: others.get(workspace.id) ?? 0 })),
      handOver: handOver.entities.map((workflow, i) => ({ workflow, newOwnerId: handOver.raw[i].new_owner_id })),
      counts: {
        workflows,
        workflowRuns,
        workflowLogs,
        memberWorkspaces,
        pendingInvitations,
        secrets,
        sharedSecrets,
      },
    };
  }

  /** The user's personal workflows and every workflow of the workspaces they own. */
  private removedWorkflows(em: EntityManager, userId: string) {
    return em
      .getRepository(WorkflowEntity)
      .createQueryBuilder('w')
      .where(
        '((w.user_id = :userId AND w.workspace_id IS NULL) OR w.workspace_id IN (SELECT o.id FROM workspaces o WHERE o.owner_id = :userId))',
        { userId },
      );
  }

  /** Owned, non-deleted workspaces where someone else is a member, with how many. */
  private async withOtherMembers(
    em: EntityManager,
    userId: string,
    owned: WorkspaceEntity[],
  ): Promise<{ workspace: WorkspaceEntity; count: number }[]> {
    const active = owned.filter((w) => !w.deletedAt);
    if (!active.length) return [];
    const rows = await em
      .getRepository(WorkspaceMemberEntity)
      .createQueryBuilder('m')
      .select('m.workspace_id', 'workspace_id')
      .addSelect('COUNT(*)', 'n')
      .where('m.workspace_id IN (:...ids) AND m.user_id <> :userId', { ids: active.map((w) => w.id), userId })
      .groupBy('m.workspace_id')
      .getRawMany<{ workspace_id: string; n: string | number }>();
    const counts = new Map(rows.map((r) => [r.workspace_id, Number(r.n)]));
    return active.filter((w) => counts.has(w.id)).map((workspace) => ({ workspace, count: counts.get(workspace.id)! }));
  }

  /**
   * The user's entries in the history of workflows that stay keep what changed but no longer say
   * who: the actor line (their name and e-mail) is replaced.
   */
  private async anonymiseHistory(em: EntityManager, userId: string, removed: Set<string>): Promise<void> {
    const logs = em.getRepository(WorkflowLogEntity);
    for (const log of await logs.find({ where: { userId } })) {
      if (removed.has(log.workflowId) || !log.diffs.some((d) => d.path === 'actor')) continue;
      const diffs: DiffEntry[] = log.diffs.map((d) => (d.path === 'actor' ? { ...d, to: FORMER_ACTOR } : d));
      await logs.update({ id: log.id }, asRow<WorkflowLogEntity>({ diffs }));
    }
  }
}
