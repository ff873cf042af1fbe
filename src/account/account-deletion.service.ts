import { Injectable, Logger } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { PasswordHasher } from '../auth/password-hasher';
import { sha256 } from '../auth/sessions.service';
import type { AuthPrincipal } from '../common/auth/principal';
import { Clock, toRfc3339 } from '../common/clock';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { runEvent } from '../common/events/app-events';
import { EventBus } from '../common/events/event-bus';
import { AppConfig } from '../config/app-config';
import { EmailTokenEntity } from '../database/entities/email-token.entity';
import { UserEntity } from '../database/entities/user.entity';
import { WorkspaceEntity } from '../database/entities/workspace.entity';
import {
  AccountFootprint,
  AccountRepository,
  DeleteAccountResult,
  HandOver,
} from '../database/repositories/account.repository';
import { EmailTokenRepository } from '../database/repositories/email-token.repository';
import { SecretRepository } from '../database/repositories/secret.repository';
import { UserRepository } from '../database/repositories/user.repository';
import { Mailer } from '../mail/mailer';
import { oneLine } from '../mail/text';
import { formatSecretReference, isSecretReference } from '../secrets/secret-reference';
import {
  DeletionConfirmDto,
  DeletionRequestDto,
  DeletionSummaryResponse,
  EnvelopeMessageResponse,
} from './account.dto';

const LINK_TTL_MS = 24 * 60 * 60 * 1000;
const INVALID_LINK = 'Deletion link is invalid';
const USED_LINK = 'This deletion link has already been used.';

const ADDITIONAL_DATA = [
  'Your profile: name, e-mail address, company name and settings.',
  'Every session and personal API key: all devices and programs signed in as you are signed out.',
  'Every secret in your store, including those you shared with a workspace.',
  'The runs, run history and dead letters of the workflows that are removed.',
  'Invitations you sent that are still pending.',
];

const COMPLIANCE_NOTICE =
  'Runloom keeps no copy of the deleted data. The server log records that an account was deleted, by its id only.';

/**
 * Account deletion in three steps: a request confirmed with the password e-mails a single-use link
 * (24 h, stored hashed); the link shows what will go; the confirmation, with the password again,
 * deletes. The link works only for the signed-in account that asked for it. What belongs to other
 * people's workspaces stays there: workflows the person created in them pass to the workspace owner.
 */
@Injectable()
export class AccountDeletionService {
  private readonly logger = new Logger(AccountDeletionService.name);

  constructor(
    private readonly users: UserRepository,
    private readonly accounts: AccountRepository,
    private readonly tokens: EmailTokenRepository,
    private readonly secrets: SecretRepository,
    private readonly hasher: PasswordHasher,
    private readonly mailer: Mailer,
    private readonly events: EventBus,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** `POST /api/account/delete/request`: checks the credentials, then e-mails the link. */
  async request(caller: AuthPrincipal, dto: DeletionRequestDto): Promise<EnvelopeMessageResponse> {
    const user = await this.signedInPerson(caller);
    const email = dto.email?.trim();
    if (!email) throw new AppError(ErrorCode.InvalidRequest, 'Email is required');
    if (email.toLowerCase() !== user.email) throw new AppError(ErrorCode.InvalidCredentials, 'Invalid credentials');
    await this.checkPassword(user, dto.password);
    const now = this.clock.now();
    const footprint = await this.accounts.footprint(user.id, now);
    this.assertNotBlocked(footprint);
    // In production without mail the link would reach nobody; say so rather than promise an e-mail.
    if (!this.mailer.enabled && this.config.env === 'production') {
      throw new AppError(
        ErrorCode.ServiceUnavailable,
        'Account deletion needs e-mail, which is not set up on this server. Contact its administrator.',
      );
    }
    const token = randomUUID();
    const expiresAt = new Date(now.getTime() + LINK_TTL_MS);
    // A new link replaces the previous one.
    await this.tokens.issue(
      { tokenHash: sha256(token), userId: user.id, purpose: 'delete_account', createdAt: now, expiresAt },
      true,
    );
    try {
      await this.mailer.send(this.requestMail(user, token, footprint));
    } catch (error) {
      this.logger.error(`The account deletion e-mail was not sent: ${(error as Error).message}`);
      throw new AppError(
        ErrorCode.ServiceUnavailable,
        'The confirmation e-mail could not be sent. Please try again later.',
      );
    }
    return envelope('Check your email for a confirmation link to permanently delete your account.');
  }

  /** `GET /api/account/delete/summary/:token`: what confirming would remove. */
  async summary(caller: AuthPrincipal, rawToken: string): Promise<DeletionSummaryResponse> {
    const user = await this.signedInPerson(caller);
    const token = await this.usableToken(user, rawToken, 'This deletion link has expired. Please start again.');
    const footprint = await this.accounts.footprint(user.id, this.clock.now());
    this.assertNotBlocked(footprint);
    const { counts } = footprint;
    return {
      success: true,
      email: user.email,
      requested_at: toRfc3339(token.createdAt)!,
      expires_at: toRfc3339(token.expiresAt)!,
      requires_password: true,
      oauth_provider: 'email',
      counts: {
        workflows: counts.workflows,
        owned_workspaces: footprint.owned.length,
        member_workspaces: counts.memberWorkspaces,
        workflow_runs: counts.workflowRuns,
        workflow_logs: counts.workflowLogs,
        oauth_connections: 0,
        pending_invitations: counts.pendingInvitations,
        secrets: counts.secrets,
      },
      stripe: { has_customer: false, has_active_subscription: false },
      additional_data: ADDITIONAL_DATA,
      system_impacts: systemImpacts(footprint),
      compliance_notice: COMPLIANCE_NOTICE,
    };
  }

  /** `POST /api/account/delete/confirm`: the link, the e-mail and the password again, then the deletion. */
  async confirm(caller: AuthPrincipal, dto: DeletionConfirmDto): Promise<EnvelopeMessageResponse> {
    const user = await this.signedInPerson(caller);
    if (!dto.token?.trim()) throw new AppError(ErrorCode.InvalidRequest, 'Deletion token is required');
    if (!dto.email?.trim()) throw new AppError(ErrorCode.InvalidRequest, 'Email is required');
    const token = await this.usableToken(user, dto.token, 'This deletion link has expired. Start again.');
    if (dto.email.trim().toLowerCase() !== user.email) {
      throw new AppError(ErrorCode.InvalidCredentials, 'Email does not match this deletion request');
    }
    await this.checkPassword(user, dto.password);
    const now = this.clock.now();
    const footprint = await this.accounts.footprint(user.id, now);
    this.assertNotBlocked(footprint);
    const handOver = await this.handOver(user.id, footprint);
    const result = await this.accounts.deleteAccount(user, token.tokenHash, handOver, now);
    if (result.kind === 'blocked') throw blockedError(result.workspaces);
    if (result.kind === 'changed') {
      throw new AppError(
        ErrorCode.Conflict,
        'Your workflows changed while the account was being deleted. Nothing was deleted; please try again.',
      );
    }
    if (result.kind === 'token_unusable') throw new AppError(ErrorCode.InvalidToken, USED_LINK);
    this.announce(user.id, result);
    this.logger.log(
      {
        userId: user.id,
        workflowsRemoved: result.deletedWorkflows.length,
        workflowsHandedOver: result.handedOver.length,
        sessionsEnded: result.sessionTokenHashes.length,
      },
      'account deleted',
    );
    this.mailer.sendLater('account deleted', async () => ({
      to: user.email,
      subject: 'Your account was deleted',
      text: [
        `Hello ${oneLine(user.firstName)},`,
        '',
        'Your account and its data were deleted as you asked. Nothing else is needed from you.',
      ].join('\n'),
    }));
    return envelope('Your account deletion has been confirmed. Your data has been removed.');
  }

  /** A person signed in, not a program with an API key: keys must not be able to end the account. */
  private async signedInPerson(caller: AuthPrincipal): Promise<UserEntity> {
    if (caller.method === 'api_key') {
      throw new AppError(ErrorCode.Forbidden, 'API keys cannot delete the account; sign in to do it');
    }
    const user = await this.users.findById(caller.userId);
    if (!user) throw new AppError(ErrorCode.Unauthorized, 'Session expired');
    return user;
  }

  private async checkPassword(user: UserEntity, password: string | undefined): Promise<void> {
    if (!password) throw new AppError(ErrorCode.InvalidRequest, 'Password is required to confirm deletion');
    if (!(await this.hasher.verify(password, user.passwordHash))) {
      throw new AppError(ErrorCode.InvalidCredentials, 'Invalid credentials');
    }
  }

  /** Someone else's link (or none) is an invalid one: a link tells nobody but its account anything. */
  private async usableToken(user: UserEntity, raw: string, expired: string): Promise<EmailTokenEntity> {
    const token = raw.trim();
    const row = isUUID(token) ? await this.accounts.findDeletionToken(sha256(token.toLowerCase())) : null;
    if (!row || row.userId !== user.id) throw new AppError(ErrorCode.NotFound, INVALID_LINK);
    if (row.usedAt) throw new AppError(ErrorCode.InvalidToken, USED_LINK);
    if (row.expiresAt.getTime() <= this.clock.now().getTime()) throw new AppError(ErrorCode.InvalidToken, expired);
    return row;
  }

  private assertNotBlocked(footprint: AccountFootprint): void {
    const blocking = footprint.owned.filter((o) => o.otherMembers > 0).map((o) => o.workspace);
    if (blocking.length) throw blockedError(blocking);
  }

  /**
   * The workflows that pass to a workspace owner keep only the secret references a workspace
   * secret of another member answers. Any other reference named something of the departing
   * person's (gone with them) or would now be looked up in the owner's own store, which they never
   * chose to lend to this workflow: it is cleared, and the owner supplies new credentials.
   */
  private async handOver(userId: string, footprint: AccountFootprint): Promise<HandOver[]> {
    const shared = new Map<string, Set<string>>();
    const result: HandOver[] = [];
    for (const { workflow, newOwnerId } of footprint.handOver) {
      const workspaceId = workflow.workspaceId!;
      if (!shared.has(workspaceId)) {
        const rows = await this.secrets.listShared(workspaceId);
        shared.set(workspaceId, new Set(rows.filter((r) => r.userId !== userId).map((r) => formatSecretReference(r))));
      }
      result.push({
        workflowId: workflow.id,
        checkedUpdatedAt: workflow.updatedAt,
        newOwnerId,
        data: keepReferences(workflow.data, shared.get(workspaceId)!) as Record<string, unknown>,
      });
    }
    return result;
  }

  /** After the commit: streams, workers and schedulers learn what changed. */
  private announce(userId: string, result: Extract<DeleteAccountResult, { kind: 'deleted' }>): void {
    for (const sessionTokenHash of result.sessionTokenHashes) {
      this.events.emit('auth.credential_revoked', { userId, sessionTokenHash, reason: 'revoked' });
    }
    for (const apiKeyId of result.apiKeyIds) {
      this.events.emit('auth.credential_revoked', { userId, apiKeyId, reason: 'revoked' });
    }
    for (const workspaceId of result.leftWorkspaceIds) {
      this.events.emit('workspace.membership_changed', { workspaceId, userId, change: 'removed', actorId: userId });
    }
    for (const run of result.activeRuns) {
      this.events.emit('run.cancel_requested', runEvent(run));
    }
    for (const workflow of result.deletedWorkflows) {
      this.events.emit('workflow.deleted', {
        workflowId: workflow.id,
        workspaceId: workflow.workspaceId,
        actorId: userId,
      });
    }
    for (const workflow of result.handedOver) {
      this.events.emit('workflow.updated', {
        workflowId: workflow.id,
        workspaceId: workflow.workspaceId,
        actorId: userId,
        updatedAt: toRfc3339(workflow.updatedAt)!,
      });
    }
  }

  private requestMail(user: UserEntity, token: string, footprint: AccountFootprint) {
    const { counts } = footprint;
    return {
      to: user.email,
      subject: 'Confirm the deletion of your account',
      text: [
        `Hello ${oneLine(user.firstName)},`,
        '',
        'You asked to delete your account. To see what will be removed and to confirm, open this link (valid for 24 hours) while signed in:',
        this.mailer.link(`/delete-account/${token}`),
        '',
        `Removed with the account: ${counts.workflows} workflow(s) with ${counts.workflowRuns} run(s), ${footprint.owned.length} workspace(s) you own, ${counts.secrets} secret(s).`,
        ...systemImpacts(footprint),
        '',
        'If you did not ask for this, ignore this message and consider changing your password: nothing is deleted without the link and your password.',
      ].join('\n'),
    };
  }
}

function envelope(message: string): EnvelopeMessageResponse {
  return { status: 'success', success: true, message, code: null };
}

function blockedError(workspaces: WorkspaceEntity[]): AppError {
  const names = workspaces.map((w) => `"${oneLine(w.name)}"`).join(', ');
  return new AppError(
    ErrorCode.Conflict,
    `You own ${workspaces.length === 1 ? 'a workspace' : 'workspaces'} with other members (${names}). Transfer ownership to another member or remove the other members before deleting your account.`,
  );
}

/** What the deletion does beyond the account itself, in the words the summary page shows. */
function systemImpacts(footprint: AccountFootprint): string[] {
  const { counts } = footprint;
  const impacts: string[] = [];
  if (footprint.owned.length) {
    impacts.push(
      `${plural(footprint.owned.length, 'workspace')} you own ${footprint.owned.length === 1 ? 'is' : 'are'} deleted with ${footprint.owned.length === 1 ? 'its' : 'their'} workflows, runs and pending invitations.`,
    );
  }
  if (counts.memberWorkspaces) {
    impacts.push(`You leave ${plural(counts.memberWorkspaces, 'workspace')} of other people.`);
  }
  if (footprint.handOver.length) {
    impacts.push(
      `${plural(footprint.handOver.length, 'workflow')} you created in other people's workspaces stay there and pass to each workspace's owner. Credentials they took from your own store are cleared from them.`,
    );
  }
  if (counts.sharedSecrets) {
    impacts.push(
      `${plural(counts.sharedSecrets, 'secret')} you shared with other people's workspaces ${counts.sharedSecrets === 1 ? 'is' : 'are'} deleted: workflows there that use ${counts.sharedSecrets === 1 ? 'it' : 'them'} can no longer resolve ${counts.sharedSecrets === 1 ? 'it' : 'them'} until someone provides a replacement.`,
    );
  }
  impacts.push(
    'Runs of the removed workflows that are queued or in progress are stopped; their schedules and webhooks stop.',
  );
  impacts.push('Your entries in the history of workflows that stay no longer show your name or e-mail address.');
  return impacts;
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** A copy of the graph where secret references in node params not in `keep` are cleared (set to ''). */
function keepReferences(graph: unknown, keep: ReadonlySet<string>): unknown {
  const clear = (value: unknown): unknown => {
    if (typeof value === 'string') return isSecretReference(value) && !keep.has(value) ? '' : value;
    if (Array.isArray(value)) return value.map(clear);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clear(v)]));
    }
    return value;
  };
  // Every object entry of `nodes`, including those the parser leaves out (no valid id): a reference
  // to a deleted secret must not survive in any of them.
  const nodes = (graph as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return graph;
  return {
    ...(graph as Record<string, unknown>),
    nodes: nodes.map((node: unknown) => {
      const data = (node as { data?: unknown } | null)?.data as Record<string, unknown> | undefined;
      if (!data || typeof data !== 'object' || data.params === undefined) return node;
      return { ...(node as Record<string, unknown>), data: { ...data, params: clear(data.params) } };
    }),
  };
}
