import type { UserEntity } from '../database/entities/user.entity';
import type { UserRepository } from '../database/repositories/user.repository';
import type { CredentialScope, SecretsService } from '../secrets/secrets.service';

/**
 * What the runs of one claimed batch read about their owner, read once per owner per batch: the
 * owner's row (for runaway protection's setting) and the decrypted secret store. A batch is claimed
 * at one moment, so its runs see their owner as of that moment, as they would have a few
 * milliseconds apart; the next batch reads again. On PostgreSQL this was two of the eight
 * statements each run cost (docs/performance.md). The store is shared read-only.
 *
 * A read that fails is forgotten, so the next run of the batch asks again rather than failing with
 * it. Once every run of the batch has said it is done with the lookups, the batch lets go of what
 * it read: the decrypted stores are then held only by the runs still executing with them.
 */
export class ClaimBatchLookups {
  private readonly owners = new Map<string, Promise<UserEntity | null>>();
  private readonly stores = new Map<string, Promise<ReadonlyMap<string, string>>>();

  constructor(
    private readonly users: UserRepository,
    private readonly secrets: SecretsService,
    /** Runs in the batch that have not yet called `done`. */
    private pending: number,
  ) {}

  owner(userId: string): Promise<UserEntity | null> {
    return this.shared(this.owners, userId, () => this.users.findById(userId));
  }

  secretStore(scope: CredentialScope): Promise<ReadonlyMap<string, string>> {
    return this.shared(this.stores, `${scope.ownerId}|${scope.workspaceId ?? ''}`, () =>
      this.secrets.decryptedStore(scope),
    );
  }

  /** One run of the batch needs no more lookups (call it once per run, whatever became of the run). */
  done(): void {
    this.pending -= 1;
    if (this.pending > 0) return;
    this.owners.clear();
    this.stores.clear();
  }

  private shared<T>(cache: Map<string, Promise<T>>, key: string, read: () => Promise<T>): Promise<T> {
    let value = cache.get(key);
    if (!value) {
      value = read();
      cache.set(key, value);
      value.catch(() => {
        if (cache.get(key) === value) cache.delete(key);
      });
    }
    return value;
  }
}
