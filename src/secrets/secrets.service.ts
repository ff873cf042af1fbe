import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { EventBus } from '../common/events/event-bus';
import { AppConfig } from '../config/app-config';
import { SecretEntity } from '../database/entities/secret.entity';
import { SecretRepository } from '../database/repositories/secret.repository';
import { WorkspaceRepository } from '../database/repositories/workspace.repository';
import { Redactor } from './redactor';
import { SecretCrypto } from './secret-crypto';
import { autoSecretName, collectGraphSecrets, formatSecretReference, replaceGraphSecrets } from './secret-sync';
import { SECRET_MASK, SecretOwnershipResponse, SecretsResponse, SecretTree, SecretWriteResponse } from './secrets.dto';

/** The value clients send back for "keep what is stored" (reference §9.4). */
const UNCHANGED_SENTINEL = '********';
const MAX_KEY = 100;
const MAX_NAME = 200;

type NewSecretRow = Omit<SecretEntity, 'user' | 'createdAt' | 'updatedAt'>;

/**
 * Per-user encrypted secret stores (AES-256-GCM, key from config), the `/api/options/secrets`
 * API with its workspace aggregate, and the auto-sync that moves credentials typed into a
 * workflow into its owner's store, leaving `group:service:name` references in the graph.
 */
@Injectable()
export class SecretsService {
  /** The one redactor every response path uses. */
  readonly redactor = new Redactor();
  private readonly crypto: SecretCrypto;

  constructor(
    config: AppConfig,
    private readonly secrets: SecretRepository,
    private readonly workspaces: WorkspaceRepository,
    private readonly events: EventBus,
    private readonly clock: Clock,
  ) {
    this.crypto = new SecretCrypto(config.secrets.encryptionKey);
  }

  /**
   * Auto-sync (reference §9.3, fixed per SPEC §9 item 10): credentials found in action nodes go to
   * the workflow **owner's** store (an identical value already stored is reused) and the graph keeps
   * only references. Returns the rewritten graph and the rows to insert with the workflow.
   */
  async planGraphSync(ownerId: string, graph: unknown): Promise<{ graph: unknown; inserts: NewSecretRow[] }> {
    const found = collectGraphSecrets(graph);
    if (!found.length) return { graph, inserts: [] };
    const stored = await this.secrets.listForUsers([ownerId]);
    const known = stored.map((s) => ({ group: s.group, service: s.service, name: s.name, value: this.tryDecrypt(s) }));
    const inserts: NewSecretRow[] = [];
    const replacements = new Map<string, string>();
    for (const f of found) {
      const sameSection = known.filter((k) => k.group === f.group && k.service === f.service);
      let name = sameSection.find((k) => k.value === f.value)?.name;
      if (!name) {
        name = autoSecretName(
          f.service,
          sameSection.map((k) => k.name),
        );
        known.push({ group: f.group, service: f.service, name, value: f.value });
        inserts.push({
          userId: ownerId,
          group: f.group,
          service: f.service,
          name,
          ciphertext: this.encrypt(ownerId, f.group, f.service, name, f.value),
        });
      }
      replacements.set(
        `${f.nodeId}\u0000${f.paramKey}`,
        formatSecretReference({ group: f.group, service: f.service, name }),
      );
    }
    return { graph: replaceGraphSecrets(graph, replacements), inserts };
  }

  /**
   * The owner's store decrypted, keyed by reference, for hydration at execution. Throws when a value
   * cannot be decrypted (the run fails with a clear error rather than running with a bad secret).
   */
  async decryptedStore(ownerId: string): Promise<Map<string, string>> {
    const rows = await this.secrets.listForUsers([ownerId]);
    return new Map(
      rows.map((row) => [
        formatSecretReference({ group: row.group, service: row.service, name: row.name }),
        this.crypto.decrypt(row.ciphertext, `${row.userId}:${row.group}:${row.service}:${row.name}`),
      ]),
    );
  }

  async list(caller: AuthPrincipal, workspaceId?: string): Promise<SecretsResponse> {
    return { success: true, secrets: await this.tree(caller, workspaceId) };
  }

  async put(
    caller: AuthPrincipal,
    path: SecretPath,
    rawValue: string,
    workspaceId?: string,
  ): Promise<SecretWriteResponse> {
    const { group, service, name } = normalizePath(path);
    if (workspaceId) {
      const membership = await this.requireMember(caller, workspaceId);
      if (membership.role === 'viewer')
        throw new AppError(ErrorCode.Forbidden, 'Workspace viewers cannot manage secrets.');
    }
    const value = rawValue.trim();
    if (!value) throw new AppError(ErrorCode.InvalidRequest, 'Secret value cannot be empty');
    const key = { userId: caller.userId, group, service, name };
    let outcome: SecretWriteResponse['outcome'] = 'unchanged';
    if (value !== UNCHANGED_SENTINEL) {
      const existing = await this.secrets.find(key);
      if (!existing || this.tryDecrypt(existing) !== value) {
        outcome = await this.secrets.upsert(
          key,
          this.encrypt(caller.userId, group, service, name, value),
          this.clock.now(),
        );
      }
    }
    if (outcome === 'created' && workspaceId) {
      this.events.emit('workspace.secret_created', {
        workspaceId,
        actorId: caller.userId,
        reference: formatSecretReference({ group, service, name }),
      });
    }
    return { success: true, outcome, secrets: await this.tree(caller, workspaceId) };
  }

  /** Personal mode deletes from the caller's store; workspace mode from the first member holding it. */
  async delete(caller: AuthPrincipal, path: SecretPath, workspaceId?: string): Promise<SecretsResponse> {
    const { group, service, name } = normalizePath(path);
    let holder = caller.userId;
    if (workspaceId) {
      const membership = await this.requireMember(caller, workspaceId);
      const members = await this.workspaces.listMembers(workspaceId);
      const rows = await this.secrets.listForUsers(members.map((m) => m.member.userId));
      const first = members.find((m) =>
        rows.some((r) => r.userId === m.member.userId && r.group === group && r.service === service && r.name === name),
      );
      if (!first) throw new AppError(ErrorCode.NotFound, 'Secret not found');
      holder = first.member.userId;
      const mayDelete = holder === caller.userId || membership.role === 'admin' || membership.role === 'owner';
      if (!mayDelete)
        throw new AppError(ErrorCode.Forbidden, "Only the secret's owner or a workspace admin can delete it.");
    }
    if (!(await this.secrets.delete({ userId: holder, group, service, name }))) {
      throw new AppError(ErrorCode.NotFound, 'Secret not found');
    }
    return { success: true, secrets: await this.tree(caller, workspaceId) };
  }

  /** Who holds which secret in a workspace (admins and owner; plan checked by PlanGuard). */
  async ownership(caller: AuthPrincipal, workspaceId: string): Promise<SecretOwnershipResponse> {
    const membership = await this.requireMember(caller, workspaceId, 'Workspace not found', ErrorCode.NotFound);
    if (membership.role !== 'admin' && membership.role !== 'owner')
      throw new AppError(ErrorCode.Forbidden, 'Admin permissions required');
    const members = await this.workspaces.listMembers(workspaceId);
    const rows = await this.secrets.listForUsers(members.map((m) => m.member.userId));
    const ownership: SecretOwnershipResponse['ownership'] = {};
    for (const m of members) ownership[m.member.userId] = [];
    for (const r of rows) ownership[r.userId].push({ group: r.group, service: r.service, name: r.name });
    return { success: true, ownership };
  }

  /** Masked tree of the caller's store, or of every member's in workspace mode (first holder wins). */
  private async tree(caller: AuthPrincipal, workspaceId?: string): Promise<SecretTree> {
    let owners = [caller.userId];
    if (workspaceId) {
      await this.requireMember(caller, workspaceId);
      owners = (await this.workspaces.listMembers(workspaceId)).map((m) => m.member.userId);
    }
    const rows = await this.secrets.listForUsers(owners);
    rows.sort((a, b) => owners.indexOf(a.userId) - owners.indexOf(b.userId));
    // Keys are the caller's own words ("__proto__" included): every level has no prototype to write through.
    const tree: SecretTree = Object.create(null) as SecretTree;
    for (const r of rows) {
      const services = (tree[r.group] ??= Object.create(null) as SecretTree[string]);
      const section = (services[r.service] ??= Object.create(null) as SecretTree[string][string]);
      section[r.name] ??= { value: SECRET_MASK, owner_id: r.userId };
    }
    return tree;
  }

  private async requireMember(
    caller: AuthPrincipal,
    workspaceId: string,
    message = 'Workspace membership required',
    code = ErrorCode.Forbidden,
  ) {
    const membership = await this.workspaces.findMembership(workspaceId, caller.userId);
    if (!membership) throw new AppError(code, message);
    return membership;
  }

  private encrypt(userId: string, group: string, service: string, name: string, value: string): string {
    return this.crypto.encrypt(value, `${userId}:${group}:${service}:${name}`);
  }

  /** null when the row cannot be decrypted (e.g. written under another key): never equal to anything. */
  private tryDecrypt(row: SecretEntity): string | null {
    try {
      return this.crypto.decrypt(row.ciphertext, `${row.userId}:${row.group}:${row.service}:${row.name}`);
    } catch {
      return null;
    }
  }
}

export interface SecretPath {
  group: string;
  service: string;
  name: string;
}

/** Reference §9.4: group/service trimmed and lower-cased, name trimmed; empty parts are 400s. */
function normalizePath(path: SecretPath): SecretPath {
  const group = path.group.trim().toLowerCase();
  const service = path.service.trim().toLowerCase();
  const name = path.name.trim();
  if (!group || !service) throw new AppError(ErrorCode.InvalidRequest, 'Section key cannot be empty');
  if (!name) throw new AppError(ErrorCode.InvalidRequest, 'Secret name cannot be empty');
  if (group.length > MAX_KEY || service.length > MAX_KEY || name.length > MAX_NAME) {
    throw new AppError(
      ErrorCode.InvalidRequest,
      `Secret keys are limited to ${MAX_KEY} characters (names ${MAX_NAME})`,
    );
  }
  if ([group, service, name].some((part) => part.includes(':'))) {
    throw new AppError(ErrorCode.InvalidRequest, 'Secret keys cannot contain ":" (references are group:service:name)');
  }
  return { group, service, name };
}
