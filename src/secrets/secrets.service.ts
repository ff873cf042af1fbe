import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { EventBus } from '../common/events/event-bus';
import { AppConfig } from '../config/app-config';
import { SecretEntity } from '../database/entities/secret.entity';
import { SecretRepository } from '../database/repositories/secret.repository';
import { WorkspaceRepository } from '../database/repositories/workspace.repository';
import { REDACTOR } from './redactor';
import { SecretCrypto } from './secret-crypto';
import {
  autoSecretName,
  type FoundSecret,
  formatSecretReference,
  isSyncSection,
  parseSecretReference,
} from './secret-reference';
import { SECRET_MASK, SecretOwnershipResponse, SecretsResponse, SecretTree, SecretWriteResponse } from './secrets.dto';

/** The value clients send back for "keep what is stored" (docs/contract.md §9.4). */
const UNCHANGED_SENTINEL = '********';
const MAX_KEY = 100;
const MAX_NAME = 200;

export type NewSecretRow = Omit<SecretEntity, 'user' | 'workspace' | 'createdAt' | 'updatedAt'>;

/** The workflow whose credentials are in question: its owner's store and its workspace's shared secrets. */
export interface CredentialScope {
  ownerId: string;
  workspaceId: string | null;
}

const referenceOf = (row: Pick<SecretEntity, 'group' | 'service' | 'name'>) =>
  formatSecretReference({ group: row.group, service: row.service, name: row.name });

/**
 * Per-user encrypted secret stores (AES-256-GCM, key from config), the `/api/options/secrets`
 * API with its workspace aggregate, and the auto-sync that moves credentials typed into a
 * workflow into its owner's store, leaving `group:service:name` references in the graph.
 */
@Injectable()
export class SecretsService {
  /** The one redactor every response path uses. */
  readonly redactor = REDACTOR;
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
   * Auto-sync (src/workflows/secret-sync.ts finds the credentials in the graph): they go into the
   * **saver's** store (an identical value the workflow may already use is reused) and the graph
   * keeps only references. The owner's new secrets are personal; another member's are shared with
   * the workflow's workspace, the only way a workspace workflow can use them. Returns the reference
   * for each found param (keyed `<node id>\u0000<param key>`) and the rows to insert.
   */
  async planSync(
    saverId: string,
    scope: CredentialScope,
    found: readonly FoundSecret[],
  ): Promise<{ replacements: Map<string, string>; inserts: NewSecretRow[] }> {
    if (!found.length) return { replacements: new Map(), inserts: [] };
    const usable = await this.secrets.listUsable(scope.ownerId, scope.workspaceId);
    // A secret shared with the workspace must not take a name any member holds (it would shadow theirs).
    const saverRows =
      saverId === scope.ownerId || !scope.workspaceId
        ? []
        : await this.secrets.listForUsers(
            (await this.workspaces.listMembers(scope.workspaceId)).map((m) => m.member.userId),
          );
    const mayUse = (row: SecretEntity) =>
      row.userId === saverId || (scope.workspaceId !== null && row.workspaceId === scope.workspaceId);
    // Names that would collide: whatever resolves in this workflow, and the members' rows.
    const taken = [...usable, ...saverRows].map((r) => ({ group: r.group, service: r.service, name: r.name }));
    // What each reference resolves to (the first row by precedence), when the saver may use it.
    const resolved = new Map<string, SecretEntity>();
    for (const row of usable) if (!resolved.has(referenceOf(row))) resolved.set(referenceOf(row), row);
    const known = [...resolved.values()].filter(mayUse).map((r) => ({ ...r, value: this.tryDecrypt(r) }));
    const shareWith = saverId === scope.ownerId ? null : scope.workspaceId;
    const inserts: NewSecretRow[] = [];
    const replacements = new Map<string, string>();
    for (const f of found) {
      let name = known.find((k) => k.group === f.group && k.service === f.service && k.value === f.value)?.name;
      if (!name) {
        name = autoSecretName(
          f.service,
          taken.filter((k) => k.group === f.group && k.service === f.service).map((k) => k.name),
        );
        taken.push({ group: f.group, service: f.service, name });
        const row = {
          userId: saverId,
          group: f.group,
          service: f.service,
          name,
          workspaceId: shareWith,
          ciphertext: this.encrypt(saverId, f.group, f.service, name, f.value),
        };
        known.push({ ...row, value: f.value } as (typeof known)[number]);
        inserts.push(row);
      }
      replacements.set(
        `${f.nodeId}\u0000${f.paramKey}`,
        formatSecretReference({ group: f.group, service: f.service, name }),
      );
    }
    return { replacements, inserts };
  }

  /**
   * A workflow may only reference secrets the person saving (or rerunning, or requeueing) it may
   * use: their own, or one shared with the workflow's workspace. Refused with 403 naming the nodes.
   * Besides resolved references, someone other than the owner may not plant a reference into a
   * section auto-sync fills (e.g. `http:bearer_token:auto-http-2`): it would resolve to the owner's
   * next secret there. `references` are the graph's, by node id (`graphReferences` in
   * src/workflows/secret-sync.ts); `pending` are rows this save is about to insert (the saver's own).
   */
  async assertMayUse(
    actorId: string,
    scope: CredentialScope,
    references: ReadonlyMap<string, ReadonlySet<string>>,
    pending: NewSecretRow[] = [],
  ): Promise<void> {
    if (!references.size) return;
    const rows = await this.secrets.listUsable(scope.ownerId, scope.workspaceId);
    const resolved = new Map<string, Pick<SecretEntity, 'userId' | 'workspaceId'>>();
    for (const row of [...rows, ...pending]) if (!resolved.has(referenceOf(row))) resolved.set(referenceOf(row), row);
    const ownerSections = new Set(rows.filter((r) => r.userId === scope.ownerId).map((r) => `${r.group}:${r.service}`));
    const refused: string[] = [];
    for (const [nodeId, refs] of references) {
      const bad = [...refs].some((ref) => {
        const row = resolved.get(ref);
        if (row)
          return !(row.userId === actorId || (scope.workspaceId !== null && row.workspaceId === scope.workspaceId));
        if (actorId === scope.ownerId) return false;
        const parsed = parseSecretReference(ref)!;
        return isSyncSection(parsed) || ownerSections.has(`${parsed.group}:${parsed.service}`);
      });
      if (bad) refused.push(nodeId);
    }
    if (refused.length) {
      throw new AppError(
        ErrorCode.Forbidden,
        `Nodes ${refused.join(', ')} use credentials you may not use. Ask their owner to share them with the workspace, or choose your own.`,
        { nodes: refused },
      );
    }
  }

  /**
   * What a run of this workflow may use, decrypted, keyed by reference (the workspace's shared
   * secrets first, then the owner's own). Throws when a value cannot be decrypted (the run fails with a
   * clear error rather than running with a bad secret).
   */
  async decryptedStore(scope: CredentialScope): Promise<Map<string, string>> {
    const rows = await this.secrets.listUsable(scope.ownerId, scope.workspaceId);
    const store = new Map<string, string>();
    for (const row of rows) {
      const reference = referenceOf(row);
      if (!store.has(reference)) store.set(reference, this.crypto.decrypt(row.ciphertext, this.aad(row)));
    }
    return store;
  }

  async list(caller: AuthPrincipal, workspaceId?: string): Promise<SecretsResponse> {
    return { success: true, secrets: await this.tree(caller, workspaceId) };
  }

  /**
   * Personal mode writes the caller's store; workspace mode writes the caller's secret shared with
   * that workspace. A name another member already shares there, or one the caller keeps personal
   * or shares elsewhere, is a 409: nobody overwrites or silently re-shares a secret.
   */
  async put(
    caller: AuthPrincipal,
    path: SecretPath,
    rawValue: string,
    workspaceId?: string,
  ): Promise<SecretWriteResponse> {
    const { group, service, name } = normalizePath(path);
    if (workspaceId) await this.requireContributor(caller, workspaceId);
    const value = rawValue.trim();
    if (!value) throw new AppError(ErrorCode.InvalidRequest, 'Secret value cannot be empty');
    const key = { userId: caller.userId, group, service, name };
    const existing = await this.secrets.find(key);
    if (workspaceId) {
      if (existing && existing.workspaceId !== workspaceId) {
        throw new AppError(
          ErrorCode.Conflict,
          'You already have a secret with this name that is not shared with this workspace; share it or choose another name.',
        );
      }
      if (!existing) await this.assertFreeInWorkspace(workspaceId, { group, service, name }, caller.userId);
    }
    let outcome: SecretWriteResponse['outcome'] = 'unchanged';
    if (value !== UNCHANGED_SENTINEL) {
      if (!existing || this.tryDecrypt(existing) !== value) {
        outcome = await this.secrets.upsert(
          key,
          this.encrypt(caller.userId, group, service, name, value),
          this.clock.now(),
          workspaceId ?? null,
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

  /**
   * Shares one of the caller's secrets with a workspace they may edit in, or makes it personal
   * again (`null`). Only the owner decides; workflows of that workspace that use it stop resolving
   * it once it is personal.
   */
  async share(caller: AuthPrincipal, path: SecretPath, workspaceId: string | null): Promise<SecretsResponse> {
    const { group, service, name } = normalizePath(path);
    const key = { userId: caller.userId, group, service, name };
    const existing = await this.secrets.find(key);
    if (!existing) throw new AppError(ErrorCode.NotFound, 'Secret not found');
    if (workspaceId) {
      await this.requireContributor(caller, workspaceId);
      if (existing.workspaceId !== workspaceId)
        await this.assertFreeInWorkspace(workspaceId, { group, service, name }, caller.userId);
    }
    await this.secrets.share(key, workspaceId, this.clock.now());
    return { success: true, secrets: await this.tree(caller, workspaceId ?? undefined) };
  }

  /**
   * Personal mode deletes the caller's own secret. Workspace mode deletes a secret shared with that
   * workspace: its owner, or a workspace admin (it is the workspace's to manage). Nobody deletes
   * another person's personal secret: it is never reachable through a workspace.
   */
  async delete(caller: AuthPrincipal, path: SecretPath, workspaceId?: string): Promise<SecretsResponse> {
    const { group, service, name } = normalizePath(path);
    let holder = caller.userId;
    if (workspaceId) {
      const membership = await this.requireMember(caller, workspaceId);
      const shared = (await this.secrets.listShared(workspaceId)).find(
        (r) => r.group === group && r.service === service && r.name === name,
      );
      if (!shared) throw new AppError(ErrorCode.NotFound, 'Secret not found');
      holder = shared.userId;
      const mayDelete = holder === caller.userId || membership.role === 'admin' || membership.role === 'owner';
      if (!mayDelete)
        throw new AppError(ErrorCode.Forbidden, "Only the secret's owner or a workspace admin can delete it.");
    }
    if (!(await this.secrets.delete({ userId: holder, group, service, name }))) {
      throw new AppError(ErrorCode.NotFound, 'Secret not found');
    }
    return { success: true, secrets: await this.tree(caller, workspaceId) };
  }

  /** Who shares which secret with a workspace (admins and owner; plan checked by PlanGuard). */
  async ownership(caller: AuthPrincipal, workspaceId: string): Promise<SecretOwnershipResponse> {
    const membership = await this.requireMember(caller, workspaceId, 'Workspace not found', ErrorCode.NotFound);
    if (membership.role !== 'admin' && membership.role !== 'owner')
      throw new AppError(ErrorCode.Forbidden, 'Admin permissions required');
    const members = await this.workspaces.listMembers(workspaceId);
    const rows = await this.secrets.listShared(workspaceId);
    const ownership: SecretOwnershipResponse['ownership'] = {};
    for (const m of members) ownership[m.member.userId] = [];
    for (const r of rows) ownership[r.userId]?.push({ group: r.group, service: r.service, name: r.name });
    return { success: true, ownership };
  }

  /** Masked tree of the caller's own store, or of what a workspace shares (first sharer wins). */
  private async tree(caller: AuthPrincipal, workspaceId?: string): Promise<SecretTree> {
    let rows: SecretEntity[];
    if (workspaceId) {
      await this.requireMember(caller, workspaceId);
      rows = await this.secrets.listShared(workspaceId);
    } else {
      rows = await this.secrets.listForUsers([caller.userId]);
    }
    // Keys are the caller's own words ("__proto__" included): every level has no prototype to write through.
    const tree: SecretTree = Object.create(null) as SecretTree;
    for (const r of rows) {
      const services = (tree[r.group] ??= Object.create(null) as SecretTree[string]);
      const section = (services[r.service] ??= Object.create(null) as SecretTree[string][string]);
      section[r.name] ??= { value: SECRET_MASK, owner_id: r.userId, workspace_id: r.workspaceId };
    }
    return tree;
  }

  /** Members who may edit in a workspace may share secrets with it; viewers may not. */
  private async requireContributor(caller: AuthPrincipal, workspaceId: string) {
    const membership = await this.requireMember(caller, workspaceId);
    if (membership.role === 'viewer')
      throw new AppError(ErrorCode.Forbidden, 'Workspace viewers cannot manage secrets.');
    return membership;
  }

  /**
   * One name per secret in a workspace: a name another member holds (shared, or personal: a shared
   * name would shadow it in their workflows) is taken. The answer does not say whose.
   */
  private async assertFreeInWorkspace(workspaceId: string, path: SecretPath, callerId: string): Promise<void> {
    const others = (await this.workspaces.listMembers(workspaceId))
      .map((m) => m.member.userId)
      .filter((id) => id !== callerId);
    const clash = (await this.secrets.listForUsers(others)).some(
      (r) => r.group === path.group && r.service === path.service && r.name === path.name,
    );
    if (clash) throw new AppError(ErrorCode.Conflict, 'Another member already has a secret with this name here.');
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
    return this.crypto.encrypt(value, this.aad({ userId, group, service, name }));
  }

  /** Each ciphertext is bound to its owner and name (moving it to another row fails to decrypt). */
  private aad(row: Pick<SecretEntity, 'userId' | 'group' | 'service' | 'name'>): string {
    return `${row.userId}:${row.group}:${row.service}:${row.name}`;
  }

  /** null when the row cannot be decrypted (e.g. written under another key): never equal to anything. */
  private tryDecrypt(row: SecretEntity): string | null {
    try {
      return this.crypto.decrypt(row.ciphertext, this.aad(row));
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

/** docs/contract.md §9.4: group/service trimmed and lower-cased, name trimmed; empty parts are 400s. */
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
