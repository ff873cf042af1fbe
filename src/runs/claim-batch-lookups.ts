import type { UserEntity } from '../database/entities/user.entity';
import type { UserRepository } from '../database/repositories/user.repository';
import type { CredentialScope, SecretsService } from '../secrets/secrets.service';

/**
 * What the runs of one claimed batch read about their owner, read once per owner per batch: the
 * owner's row (for runaway protection's setting) and the decrypted secret store. A batch is claimed
 * at one moment, so its runs see their owner as of that moment, as they would have a few
 * milliseconds apart; the next batch reads again. On PostgreSQL this was two of the eight
 * statements each run cost (docs/benchmarks.md). The store is shared read-only.
 */
export class ClaimBatchLookups {
  private readonly owners = new Map<string, Promise<UserEntity | null>>();
  private readonly stores = new Map<string, Promise<ReadonlyMap<string, string>>>();

  constructor(
    private readonly users: UserRepository,
    private readonly secrets: SecretsService,
  ) {}

  owner(userId: string): Promise<UserEntity | null> {
    let owner = this.owners.get(userId);
    if (!owner) {
      owner = this.users.findById(userId);
      this.owners.set(userId, owner);
    }
    return owner;
  }

  /** A failed read or decryption fails every run of the batch that asked for it, as it would have one by one. */
  secretStore(scope: CredentialScope): Promise<ReadonlyMap<string, string>> {
    const key = `${scope.ownerId}|${scope.workspaceId ?? ''}`;
    let store = this.stores.get(key);
    if (!store) {
      store = this.secrets.decryptedStore(scope);
      this.stores.set(key, store);
    }
    return store;
  }
}
