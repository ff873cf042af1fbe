import { Injectable } from '@nestjs/common';
import { EntityManager, FindOptionsWhere, In, IsNull } from 'typeorm';
import { Db } from '../db.service';
import { IssueMessageEntity, IssueSender } from '../entities/issue-message.entity';
import { IssueEntity, IssueStatus } from '../entities/issue.entity';

export type NewIssue = Omit<IssueEntity, 'user' | 'workspace' | 'status' | 'updatedAt'>;

export interface NewIssueMessage {
  id: string;
  senderId: string;
  senderType: IssueSender;
  body: string;
}

/** An issue with the name of its workspace (null without one, or once it is gone). */
export interface IssueWithWorkspace {
  issue: IssueEntity;
  workspaceName: string | null;
}

/** What a thread list shows of each issue: its last message and the messages the reader has not seen. */
export interface IssueSummary extends IssueWithWorkspace {
  lastMessage: IssueMessageEntity | null;
  unread: number;
}

/**
 * Support threads and their messages. Users reach only their own issues (the user id is part of
 * every user-facing query); the `Any` methods are for application admins. A thread's messages are
 * numbered under a lock on the issue row (PostgreSQL; SQLite writes are serialised by Db).
 */
@Injectable()
export class IssueRepository {
  constructor(private readonly db: Db) {}

  /** The issue and its first message (the description), in one transaction. */
  create(issue: NewIssue, first: NewIssueMessage): Promise<IssueEntity> {
    return this.db.transaction(async (em) => {
      const row = { ...issue, status: 'open' as const, updatedAt: issue.createdAt };
      await em.getRepository(IssueEntity).insert(row);
      await em.getRepository(IssueMessageEntity).insert(this.message(issue.id, 1, first, issue.createdAt));
      return em.getRepository(IssueEntity).create(row);
    });
  }

  /** The user's issues, most recently active first. */
  listForUser(userId: string, limit: number): Promise<IssueSummary[]> {
    return this.summaries({ userId }, limit, 'admin');
  }

  /** Every user's issues (optionally one status), most recently active first: the operators' inbox. */
  listAny(status: IssueStatus | undefined, limit: number): Promise<IssueSummary[]> {
    return this.summaries(status ? { status } : {}, limit, 'user');
  }

  findForUser(id: string, userId: string): Promise<IssueWithWorkspace | null> {
    return this.find({ id, userId });
  }

  findAny(id: string): Promise<IssueWithWorkspace | null> {
    return this.find({ id });
  }

  /** The thread, oldest first. */
  messages(issueId: string): Promise<IssueMessageEntity[]> {
    return this.db.manager.getRepository(IssueMessageEntity).find({ where: { issueId }, order: { position: 'ASC' } });
  }

  /** Stamps `read_by_user_at` on the operators' messages the user has not seen. */
  async markReadByUser(issueId: string, now: Date): Promise<void> {
    await this.db.write((em) =>
      em
        .getRepository(IssueMessageEntity)
        .update({ issueId, senderType: 'admin', readByUserAt: IsNull() }, { readByUserAt: now }),
    );
  }

  /**
   * Appends a message and moves the issue to `status` and `updated_at = now`. The writer has read
   * what came before: an operator's answer marks the user's messages read by an operator, and the
   * user's reply marks the operators' messages read by the user. Null when the issue is gone.
   */
  addMessage(issueId: string, message: NewIssueMessage, status: IssueStatus, now: Date): Promise<IssueEntity | null> {
    return this.db.transaction(async (em) => {
      const issue = await this.lockIssue(em, issueId);
      if (!issue) return null;
      const messages = em.getRepository(IssueMessageEntity);
      const last = await messages.findOne({
        where: { issueId },
        order: { position: 'DESC' },
        select: { position: true },
      });
      await messages.insert(this.message(issueId, (last?.position ?? 0) + 1, message, now));
      const seen =
        message.senderType === 'admin'
          ? { where: { issueId, senderType: 'user' as const, readByAdminAt: IsNull() }, set: { readByAdminAt: now } }
          : { where: { issueId, senderType: 'admin' as const, readByUserAt: IsNull() }, set: { readByUserAt: now } };
      await messages.update(seen.where, seen.set);
      await em.getRepository(IssueEntity).update({ id: issueId }, { status, updatedAt: now });
      return { ...issue, status, updatedAt: now };
    });
  }

  private async find(where: FindOptionsWhere<IssueEntity>): Promise<IssueWithWorkspace | null> {
    const issue = await this.db.manager.getRepository(IssueEntity).findOne({ where, relations: { workspace: true } });
    return issue ? this.withWorkspace(issue) : null;
  }

  /** `unreadFrom`: whose messages count as unread (the other side's, for whoever reads the list). */
  private async summaries(
    where: FindOptionsWhere<IssueEntity>,
    limit: number,
    unreadFrom: IssueSender,
  ): Promise<IssueSummary[]> {
    const issues = await this.db.manager.getRepository(IssueEntity).find({
      where,
      relations: { workspace: true },
      order: { updatedAt: 'DESC', createdAt: 'DESC', id: 'ASC' },
      take: limit,
    });
    if (!issues.length) return [];
    const ids = issues.map((issue) => issue.id);
    const messages = this.db.manager.getRepository(IssueMessageEntity);
    const lastMessages = await messages
      .createQueryBuilder('m')
      .where('m.issue_id IN (:...ids)', { ids })
      .andWhere('m.position = (SELECT MAX(l.position) FROM issue_messages l WHERE l.issue_id = m.issue_id)')
      .getMany();
    const readColumn = unreadFrom === 'admin' ? 'm.read_by_user_at' : 'm.read_by_admin_at';
    const unreadRows = await messages
      .createQueryBuilder('m')
      .select('m.issue_id', 'issue_id')
      .addSelect('COUNT(*)', 'unread')
      .where({ issueId: In(ids), senderType: unreadFrom })
      .andWhere(`${readColumn} IS NULL`)
      .groupBy('m.issue_id')
      .getRawMany<{ issue_id: string; unread: string | number }>();
    const last = new Map(lastMessages.map((m) => [m.issueId, m]));
    const unread = new Map(unreadRows.map((row) => [row.issue_id, Number(row.unread)]));
    return issues.map((issue) => ({
      ...this.withWorkspace(issue),
      lastMessage: last.get(issue.id) ?? null,
      unread: unread.get(issue.id) ?? 0,
    }));
  }

  private message(
    issueId: string,
    position: number,
    message: NewIssueMessage,
    now: Date,
  ): Omit<IssueMessageEntity, 'issue'> {
    const { senderType } = message;
    return {
      ...message,
      issueId,
      position,
      createdAt: now,
      // The writer has read their own message.
      readByUserAt: senderType === 'user' ? now : null,
      readByAdminAt: senderType === 'admin' ? now : null,
    };
  }

  private async lockIssue(em: EntityManager, id: string): Promise<IssueEntity | null> {
    return em.getRepository(IssueEntity).findOne({
      where: { id },
      ...(this.db.dialect === 'postgres' ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
  }

  private withWorkspace(issue: IssueEntity): IssueWithWorkspace {
    const workspaceName = issue.workspace?.name ?? null;
    delete issue.workspace;
    return { issue, workspaceName };
  }
}
