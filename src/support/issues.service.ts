import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuthPrincipal } from '../common/auth/principal';
import { Clock, toRfc3339 } from '../common/clock';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { IssueMessageEntity } from '../database/entities/issue-message.entity';
import { IssueEntity, IssueStatus } from '../database/entities/issue.entity';
import { IssueRepository, IssueSummary, IssueWithWorkspace } from '../database/repositories/issue.repository';
import { UserRepository } from '../database/repositories/user.repository';
import { WorkspaceRepository } from '../database/repositories/workspace.repository';
import {
  AdminIssueDetailResponse,
  AdminIssueListResponse,
  AdminIssueSummary,
  CreateIssueDto,
  IssueDetailResponse,
  IssueListResponse,
  IssueMessageResponse,
  IssueReadResponse,
  IssueSubmittedResponse,
  IssueThreadSummary,
  toIssueMessageResponse,
  toIssueResponse,
} from './issues.dto';

/** Longest description or message, in UTF-8 bytes. */
const MAX_TEXT_BYTES = 4000;
/** Threads one list shows: the newest by activity. */
const LIST_LIMIT = 200;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const NOT_FOUND = 'Issue not found';

/**
 * Support threads: a user reports an issue (optionally about a workspace they belong to), reads
 * the operators' answers and replies. Users see only their own issues: anyone else's is a 404,
 * like one that does not exist. Application admins (users.role = admin) answer through the
 * operator routes (`npm run cli -- issues …`).
 */
@Injectable()
export class IssuesService {
  constructor(
    private readonly issues: IssueRepository,
    private readonly users: UserRepository,
    private readonly workspaces: WorkspaceRepository,
    private readonly clock: Clock,
  ) {}

  /** `GET /api/issues`: the Message Center's list and the unread badge. */
  async list(caller: AuthPrincipal): Promise<IssueListResponse> {
    const rows = await this.issues.listForUser(caller.userId, LIST_LIMIT);
    const issues = rows.map((row) => this.toSummary(row));
    return { issues, unread_admin_messages: issues.reduce((sum, issue) => sum + issue.unread_admin_messages, 0) };
  }

  /**
   * `POST /api/issues`: stores the report with a snapshot of the caller's plan and role (and the
   * workspace's, when one is named) and the description as the thread's first message.
   */
  async create(caller: AuthPrincipal, dto: CreateIssueDto): Promise<IssueSubmittedResponse> {
    const description = this.text(dto.description, 'Issue description');
    const user = await this.users.findById(caller.userId);
    if (!user) throw new AppError(ErrorCode.Unauthorized, 'User not found');
    let membership = null;
    if (dto.workspace_id) {
      // Naming a workspace one is not a member of would show its name in the thread: 404 as elsewhere.
      membership = await this.workspaces.findMembership(dto.workspace_id.toLowerCase(), user.id);
      if (!membership) throw new AppError(ErrorCode.NotFound, 'Workspace not found');
    }
    const now = this.clock.now();
    const issue = await this.issues.create(
      {
        id: randomUUID(),
        userId: user.id,
        workspaceId: membership?.workspace.id ?? null,
        userEmail: user.email,
        userName: `${user.firstName.trim()} ${user.lastName.trim()}`.trim() || user.email,
        userPlan: user.plan,
        userRole: user.role,
        workspacePlan: membership?.workspace.plan ?? null,
        workspaceRole: membership?.role ?? null,
        description,
        createdAt: now,
      },
      { id: randomUUID(), senderId: user.id, senderType: 'user', body: description },
    );
    return { status: 'success', success: true, message: 'Issue report submitted', code: null, issue_id: issue.id };
  }

  /** `GET /api/issues/:id`. */
  async detail(caller: AuthPrincipal, id: string): Promise<IssueDetailResponse> {
    return this.userDetail(await this.mine(caller, id));
  }

  /** `POST /api/issues/:id/read`: the operators' messages count as seen. */
  async markRead(caller: AuthPrincipal, id: string): Promise<IssueReadResponse> {
    const { issue } = await this.mine(caller, id);
    await this.issues.markReadByUser(issue.id, this.clock.now());
    const messages = await this.issues.messages(issue.id);
    return { success: true, unread_admin_messages: this.unread(messages, 'admin') };
  }

  /** `POST /api/issues/:id/reply`: the thread waits for an operator again. */
  async reply(caller: AuthPrincipal, id: string, text: string): Promise<IssueDetailResponse> {
    const body = this.text(text, 'Message');
    const found = await this.mine(caller, id);
    const issue = await this.append(found.issue.id, caller.userId, 'user', body, 'waiting_admin');
    return this.userDetail({ issue, workspaceName: found.workspaceName });
  }

  /** The operators' inbox: every user's threads, optionally in one status. */
  async listAll(status?: IssueStatus): Promise<AdminIssueListResponse> {
    const rows = await this.issues.listAny(status, LIST_LIMIT);
    return { success: true, issues: rows.map((row) => this.toAdminSummary(row)) };
  }

  async adminDetail(id: string): Promise<AdminIssueDetailResponse> {
    const found = await this.issues.findAny(id);
    if (!found) throw new AppError(ErrorCode.NotFound, NOT_FOUND);
    return this.toAdminDetail(found);
  }

  /** An operator's answer: the thread now waits for the user, whose badge counts it as unread. */
  async adminReply(caller: AuthPrincipal, id: string, text: string): Promise<AdminIssueDetailResponse> {
    const body = this.text(text, 'Message');
    const found = await this.issues.findAny(id);
    if (!found) throw new AppError(ErrorCode.NotFound, NOT_FOUND);
    const issue = await this.append(found.issue.id, caller.userId, 'admin', body, 'waiting_user');
    return this.toAdminDetail({ issue, workspaceName: found.workspaceName });
  }

  private async mine(caller: AuthPrincipal, id: string): Promise<IssueWithWorkspace> {
    const found = await this.issues.findForUser(id, caller.userId);
    if (!found) throw new AppError(ErrorCode.NotFound, NOT_FOUND);
    return found;
  }

  private async append(
    issueId: string,
    senderId: string,
    senderType: 'user' | 'admin',
    body: string,
    status: IssueStatus,
  ): Promise<IssueEntity> {
    const message = { id: randomUUID(), senderId, senderType, body };
    const issue = await this.issues.addMessage(issueId, message, status, this.clock.now());
    // Deleted with its user meanwhile.
    if (!issue) throw new AppError(ErrorCode.NotFound, NOT_FOUND);
    return issue;
  }

  /**
   * Trimmed and required, at most MAX_TEXT_BYTES: "<what> is required" / "<what> is too long". NUL
   * is refused here, on both dialects, rather than by PostgreSQL alone.
   */
  private text(raw: string, what: string): string {
    const text = raw.trim();
    if (!text) throw new AppError(ErrorCode.InvalidRequest, `${what} is required`);
    if (text.includes('\0')) throw new AppError(ErrorCode.InvalidRequest, `${what} cannot contain NUL characters`);
    if (Buffer.byteLength(text, 'utf8') > MAX_TEXT_BYTES) {
      throw new AppError(ErrorCode.InvalidRequest, `${what} is too long`);
    }
    return text;
  }

  private async userDetail({ issue, workspaceName }: IssueWithWorkspace): Promise<IssueDetailResponse> {
    const messages = await this.issues.messages(issue.id);
    return {
      issue: toIssueResponse(issue),
      workspace_name: workspaceName,
      messages: this.thread(issue, messages, false),
      unread_admin_messages: this.unread(messages, 'admin'),
    };
  }

  private async toAdminDetail({ issue, workspaceName }: IssueWithWorkspace): Promise<AdminIssueDetailResponse> {
    const messages = await this.issues.messages(issue.id);
    return {
      success: true,
      issue: toIssueResponse(issue),
      workspace_name: workspaceName,
      messages: this.thread(issue, messages, true),
      unread_user_messages: this.unread(messages, 'user'),
    };
  }

  /** A thread always has its description: a stand-in message when none is stored. */
  private thread(issue: IssueEntity, messages: IssueMessageEntity[], forAdmin: boolean): IssueMessageResponse[] {
    if (messages.length) return messages.map((m) => toIssueMessageResponse(m, forAdmin));
    const stand: IssueMessageEntity = {
      id: NIL_UUID,
      issueId: issue.id,
      position: 0,
      senderId: issue.userId,
      senderType: 'user',
      body: issue.description,
      createdAt: issue.createdAt,
      readByUserAt: issue.createdAt,
      readByAdminAt: null,
    };
    return [toIssueMessageResponse(stand, forAdmin)];
  }

  /** Messages from `sender` the other side has not seen. */
  private unread(messages: IssueMessageEntity[], sender: 'user' | 'admin'): number {
    return messages.filter((m) => m.senderType === sender && !(sender === 'admin' ? m.readByUserAt : m.readByAdminAt))
      .length;
  }

  private lastOf(row: IssueSummary) {
    const last = row.lastMessage;
    return {
      last_message_body: last?.body ?? row.issue.description,
      last_message_sender: last?.senderType ?? 'user',
      last_message_at: toRfc3339(last?.createdAt ?? row.issue.createdAt),
    };
  }

  private toSummary(row: IssueSummary): IssueThreadSummary {
    return {
      id: row.issue.id,
      status: row.issue.status,
      workspace_id: row.issue.workspaceId,
      workspace_name: row.workspaceName,
      updated_at: toRfc3339(row.issue.updatedAt)!,
      unread_admin_messages: row.unread,
      ...this.lastOf(row),
    };
  }

  private toAdminSummary(row: IssueSummary): AdminIssueSummary {
    const { issue } = row;
    return {
      id: issue.id,
      status: issue.status,
      user_id: issue.userId,
      user_email: issue.userEmail,
      user_name: issue.userName,
      workspace_id: issue.workspaceId,
      workspace_name: row.workspaceName,
      created_at: toRfc3339(issue.createdAt)!,
      updated_at: toRfc3339(issue.updatedAt)!,
      unread_user_messages: row.unread,
      ...this.lastOf(row),
    };
  }
}
