import { DynamicModule, ForwardReference, LoggerService, Provider, Type } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { Test, TestingModule } from '@nestjs/testing';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuthPrincipal } from '../../src/common/auth/principal';
import { Clock } from '../../src/common/clock';
import { CommonModule } from '../../src/common/common.module';
import { type AppConfig, loadConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { DatabaseModule } from '../../src/database/database.module';
import { UserEntity } from '../../src/database/entities/user.entity';
import { WorkflowEntity } from '../../src/database/entities/workflow.entity';
import { WorkspaceRole } from '../../src/database/entities/workspace-member.entity';
import { WorkspaceEntity } from '../../src/database/entities/workspace.entity';
import { WorkspaceInvitationRepository } from '../../src/database/repositories/invitation.repository';
import { UserRepository } from '../../src/database/repositories/user.repository';
import { WorkflowRepository } from '../../src/database/repositories/workflow.repository';
import { WorkspaceRepository } from '../../src/database/repositories/workspace.repository';
import { EgressModule } from '../../src/egress/egress.module';
import { MailModule } from '../../src/mail/mail.module';
import { MetricsModule } from '../../src/metrics/metrics.module';
import { graph, trigger } from '../factories/workflow.factory';
import { scratchDatabase, TEST_SECRETS } from './scratch';
import { FakeClock } from './clock';

/**
 * Medium tests: a service with its real collaborators and repositories on a real, migrated
 * database (a fresh SQLite file, or a scratch PostgreSQL database when TEST_DATABASE_URL is set),
 * no HTTP server. Time is a FakeClock the test moves; the worker and scheduler loops stay off
 * unless the test starts them (RUNLOOM_ROLES=api).
 */
export interface Medium {
  module: TestingModule;
  config: AppConfig;
  clock: FakeClock;
  /** Repositories and services from the module (real instances). */
  get<T>(type: Type<T>): T;
  /** Writes users, workspaces and workflows through the repositories. */
  make: MediumFactory;
  /** What the application logged (level and message), for a failing test to show. */
  logs: string[];
  /** Closes the module (hooks, pools, the connection), then drops the database and the data dir. */
  close(): Promise<void>;
}

type Import = Type<unknown> | DynamicModule | Promise<DynamicModule> | ForwardReference;

export interface MediumOptions {
  /** The feature modules under test (RunsModule, WorkflowsModule…); the global ones are always there. */
  imports?: Import[];
  providers?: Provider[];
  /** Environment on top of the test defaults (as in test/utils/app.ts). */
  env?: Record<string, string>;
  /** Where the FakeClock starts. */
  now?: string;
}

export const MEDIUM_START = '2026-03-02T09:00:00.000Z';

export async function createMedium(options: MediumOptions = {}): Promise<Medium> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-medium-'));
  // SQLite: the default file under DATA_DIR (a real file, WAL and all, as in production).
  const pg = process.env.TEST_DATABASE_URL ? await scratchDatabase() : null;
  const cleanup = async () => {
    await pg?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  let moduleRef: TestingModule | undefined;
  const logs: string[] = [];
  try {
    const config = loadConfig({
      NODE_ENV: 'test',
      DATA_DIR: dataDir,
      ...(pg ? { DATABASE_URL: pg.url } : {}),
      RUNLOOM_ROLES: 'api',
      RATE_LIMIT_PER_SECOND: '0',
      AUTH_RATE_LIMIT_PER_MINUTE: '0',
      PASSWORD_SCRYPT_LOG_N: '10',
      EGRESS_ALLOW_PRIVATE_NETWORKS: 'true',
      ...TEST_SECRETS,
      ...options.env,
    });
    const clock = new FakeClock(new Date(options.now ?? MEDIUM_START));
    moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(config),
        EventEmitterModule.forRoot(),
        ScheduleModule.forRoot(),
        CommonModule,
        DatabaseModule,
        MetricsModule,
        MailModule,
        EgressModule,
        ...(options.imports ?? []),
      ],
      providers: options.providers ?? [],
    })
      .overrideProvider(Clock)
      .useValue(clock)
      .setLogger(collectingLogger(logs))
      .compile();
    // Lifecycle hooks as in the app: event listeners are bound, thread pools started.
    await moduleRef.init();
    const module = moduleRef;
    const get = <T>(type: Type<T>) => module.get(type, { strict: false });
    return {
      module,
      config,
      clock,
      get,
      make: new MediumFactory(get, clock),
      logs,
      close: async () => {
        await module.close().finally(cleanup);
      },
    };
  } catch (error) {
    await moduleRef?.close().catch(() => undefined);
    await cleanup();
    throw error;
  }
}

function collectingLogger(logs: string[]): LoggerService {
  const line =
    (level: string) =>
    (message: unknown, ...rest: unknown[]) =>
      logs.push(`${level} ${[message, ...rest].map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ')}`);
  return { log: line('log'), error: line('error'), warn: line('warn'), debug: line('debug'), verbose: line('verbose') };
}

export interface TestUser {
  user: UserEntity;
  /** What AuthGuard would hand the services for this user's session. */
  principal: AuthPrincipal;
  /** The workspace created with the account (upgraded when the user is on the workspace plan). */
  soloWorkspaceId: string;
}

let seq = 0;
const unique = () => `${++seq}-${randomBytes(3).toString('hex')}`;

/** Data factories: every record goes through the repository that owns it, as the services write it. */
export class MediumFactory {
  constructor(
    private readonly get: <T>(type: Type<T>) => T,
    private readonly clock: Clock,
  ) {}

  /** A user with their own workspace, as signup leaves them; `plan: 'workspace'` as after an upgrade. */
  async user(options: { plan?: 'solo' | 'workspace'; firstName?: string } = {}): Promise<TestUser> {
    const plan = options.plan ?? 'solo';
    const workspaces = this.get(WorkspaceRepository);
    const user = await this.get(UserRepository).createWithWorkspace(
      {
        email: `medium.${unique()}@example.com`,
        // Never checked: medium tests hand the services a principal instead of logging in.
        passwordHash: 'not-a-hash',
        firstName: options.firstName ?? 'Ada',
        lastName: 'Lovelace',
        companyName: null,
        plan,
        settings: {},
        isVerified: true,
        acceptedTermsVersion: '2025-01',
        onboardedAt: this.clock.now(),
      },
      'Solo workspace',
      workspaces,
    );
    const [own] = await workspaces.ownedBy(user.id);
    if (plan === 'workspace') await workspaces.update(own.id, { plan: 'workspace' });
    return {
      user,
      principal: { userId: user.id, email: user.email, method: 'bearer', claimsPlan: plan },
      soloWorkspaceId: own.id,
    };
  }

  /** Another workspace owned by `owner`. */
  workspace(owner: TestUser, options: { plan?: 'solo' | 'workspace'; name?: string } = {}): Promise<WorkspaceEntity> {
    return this.get(WorkspaceRepository).createWithOwner({
      name: options.name ?? `Workspace ${unique()}`,
      ownerId: owner.user.id,
      plan: options.plan ?? 'workspace',
    });
  }

  /** Makes `member` a member of the workspace the only way there is: an invitation, accepted. */
  async member(workspaceId: string, invitedBy: TestUser, member: TestUser, role: Exclude<WorkspaceRole, 'owner'>) {
    const invitations = this.get(WorkspaceInvitationRepository);
    const now = this.clock.now();
    const created = await invitations.create(
      {
        id: randomUUID(),
        workspaceId,
        email: member.user.email,
        role,
        tokenHash: createHash('sha256').update(randomUUID()).digest('hex'),
        createdBy: invitedBy.user.id,
        createdAt: now,
        expiresAt: new Date(now.getTime() + 86_400_000),
      },
      1_000,
    );
    if (created.kind !== 'created') throw new Error(`invitation not created: ${created.kind}`);
    const accepted = await invitations.accept(created.invitation.id, member.user.id, 1_000, now);
    if (accepted.kind !== 'accepted') throw new Error(`invitation not accepted: ${accepted.kind}`);
  }

  /** A workflow as stored after a create (no secrets or schedule to sync); a lone trigger by default. */
  workflow(
    owner: TestUser,
    options: { workspaceId?: string | null; name?: string; data?: Record<string, unknown> } = {},
  ): Promise<WorkflowEntity> {
    return this.get(WorkflowRepository).create(
      {
        userId: owner.user.id,
        workspaceId: options.workspaceId ?? null,
        name: options.name ?? `Workflow ${unique()}`,
        description: null,
        data: options.data ?? graph([trigger()]),
      },
      {},
      this.clock.now(),
    );
  }
}
