import type { UserEntity } from '../database/entities/user.entity';
import type { UserRepository } from '../database/repositories/user.repository';
import type { SecretsService } from '../secrets/secrets.service';
import { ClaimBatchLookups } from './claim-batch-lookups';

/** The two reads a batch shares, counted; `fail` makes the next secret read reject. */
function sources() {
  const reads = { users: 0, stores: 0 };
  let fail = false;
  const users = {
    findById: (id: string) => {
      reads.users += 1;
      return Promise.resolve({ id } as UserEntity);
    },
  } as unknown as UserRepository;
  const secrets = {
    decryptedStore: ({ ownerId }: { ownerId: string }) => {
      reads.stores += 1;
      if (fail) {
        fail = false;
        return Promise.reject(new Error('pool timeout'));
      }
      return Promise.resolve(new Map([[`${ownerId}:key`, `value-${reads.stores}`]]));
    },
  } as unknown as SecretsService;
  return { users, secrets, reads, failNext: () => (fail = true) };
}

describe('ClaimBatchLookups', () => {
  it('reads each owner and each store once for the runs of a batch', async () => {
    const s = sources();
    const lookups = new ClaimBatchLookups(s.users, s.secrets, 3);
    const scope = { ownerId: 'u1', workspaceId: 'w1' };
    const [a, b] = await Promise.all([lookups.secretStore(scope), lookups.secretStore(scope)]);
    expect(a).toBe(b);
    await lookups.secretStore({ ownerId: 'u1', workspaceId: null });
    await Promise.all([lookups.owner('u1'), lookups.owner('u1'), lookups.owner('u2')]);
    expect(s.reads).toEqual({ users: 2, stores: 2 });
  });

  it('forgets a read that failed: the next run of the batch asks again', async () => {
    const s = sources();
    const lookups = new ClaimBatchLookups(s.users, s.secrets, 2);
    const scope = { ownerId: 'u1', workspaceId: 'w1' };
    s.failNext();
    await expect(lookups.secretStore(scope)).rejects.toThrow('pool timeout');
    await expect(lookups.secretStore(scope)).resolves.toEqual(new Map([['u1:key', 'value-2']]));
    expect(s.reads.stores).toBe(2);
  });

  it('lets go of what it read once every run of the batch is done with it', async () => {
    const s = sources();
    const lookups = new ClaimBatchLookups(s.users, s.secrets, 2);
    const scope = { ownerId: 'u1', workspaceId: 'w1' };
    await lookups.secretStore(scope);
    lookups.done();
    await lookups.secretStore(scope);
    expect(s.reads.stores).toBe(1);
    lookups.done();
    await lookups.secretStore(scope);
    expect(s.reads.stores).toBe(2);
  });
});
