import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { EgressSettings } from './egress-policy';
import {
  EgressBlock,
  EgressBlockedError,
  GuardedOutboundHttp,
  GuardedOutboundHttpOptions,
} from './guarded-outbound-http';
import { OutboundError, OutboundRequest } from './outbound-http';

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

async function blocked(promise: Promise<unknown>): Promise<EgressBlockedError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EgressBlockedError);
  return err as EgressBlockedError;
}

const ORIGIN = { workflowId: 'wf-1', runId: 'run-1', nodeId: 'node-1', ownerId: 'user-1' };

/** `egressAllowlist` is read defensively from the origin (the field is added to the type elsewhere). */
const origin = (egressAllowlist?: string[]): OutboundRequest['origin'] =>
  (egressAllowlist ? { ...ORIGIN, egressAllowlist } : ORIGIN) as OutboundRequest['origin'];

const SETTINGS: EgressSettings = {
  allowedDomains: [],
  disallowedDomains: [],
  defaultDeny: false,
  allowPrivateNetworks: false,
};

/** Test DNS: public-looking names that really lead to the local server, and names that resolve to private space. */
const DNS: Record<string, string[]> = {
  'public.test': ['127.0.0.1'],
  'api.example.test': ['127.0.0.1'],
  'www.example.test': ['127.0.0.1'],
  'example.test': ['127.0.0.1'],
  'internal.test': ['10.0.0.7'],
  'rebind.test': ['93.184.216.34', '10.1.2.3'],
  'mapped.test': ['::ffff:127.0.0.2'],
  'nowhere.test': [],
};

describe('GuardedOutboundHttp', () => {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    hits.push(`${req.headers.host}${url.pathname}`);
    const to = url.searchParams.get('to');
    if (url.pathname === '/redirect' && to) res.writeHead(302, { Location: to }).end();
    else res.end(JSON.stringify({ host: req.headers.host, path: url.pathname }));
  });
  let port: number;
  const guards: GuardedOutboundHttp[] = [];
  let blocks: EgressBlock[];

  /** A guard whose connect-time DNS is the table above and which trusts only the exact local server address. */
  const guard = (settings: Partial<EgressSettings> = {}, over: Partial<GuardedOutboundHttpOptions> = {}) => {
    const sut = new GuardedOutboundHttp({
      maxResponseBytes: 4096,
      settings: { ...SETTINGS, ...settings },
      onBlocked: (block) => {
        blocks.push(block);
      },
      resolve: async (host) => {
        const addresses = DNS[host];
        if (!addresses) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
        return addresses;
      },
      trustAddress: (ip) => ip === '127.0.0.1',
      ...over,
    });
    guards.push(sut);
    return sut;
  };
  /** A guard exactly as production builds it: real DNS, no seams. */
  const plain = (settings: Partial<EgressSettings> = {}) => {
    const sut = new GuardedOutboundHttp({
      maxResponseBytes: 4096,
      settings: { ...SETTINGS, ...settings },
      onBlocked: (block) => {
        blocks.push(block);
      },
    });
    guards.push(sut);
    return sut;
  };
  const get = (sut: GuardedOutboundHttp, url: string, allowlist?: string[]) =>
    sut.request({ method: 'GET', url, timeoutMs: 5000, origin: origin(allowlist) });

  beforeAll(async () => {
    port = await listen(server, '127.0.0.1');
  });

  beforeEach(() => {
    hits.length = 0;
    blocks = [];
  });

  afterAll(async () => {
    await Promise.all(guards.map((g) => g.close()));
    await close(server);
  });

  describe('SSRF guard (on by default)', () => {
    it('blocks a literal loopback address before connecting and records the block with its origin', async () => {
      const err = await blocked(get(plain(), `http://127.0.0.1:${port}/echo?key=1`));
      expect(err).toMatchObject({
        kind: 'blocked',
        rule: 'ssrf',
        host: '127.0.0.1',
        url: `http://127.0.0.1:${port}/echo?key=1`,
      });
      expect(err).toBeInstanceOf(OutboundError);
      expect(blocks).toEqual([
        {
          rule: 'ssrf',
          host: '127.0.0.1',
          url: `http://127.0.0.1:${port}/echo?key=1`,
          message:
            'Outbound HTTP blocked by SSRF guard: 127.0.0.1 (loopback); set EGRESS_ALLOW_PRIVATE_NETWORKS=true to allow private addresses (local development only)',
          origin: ORIGIN,
        },
      ]);
      expect(hits).toEqual([]);
    });

    it('blocks the hexadecimal form of 127.0.0.1', async () => {
      const err = await blocked(get(plain(), `http://0x7f000001:${port}/echo`));
      expect(err).toMatchObject({ rule: 'ssrf', host: '127.0.0.1' });
      expect(blocks).toHaveLength(1);
      expect(hits).toEqual([]);
    });

    it('blocks [::1]', async () => {
      const v6 = createServer((_req, res) => res.end('reached'));
      let v6Port = port;
      let bound = false;
      try {
        v6Port = await listen(v6, '::1');
        bound = true;
      } catch {
        // ::1 not bindable here: the request is refused before connecting anyway.
      }
      const v6Hits: string[] = [];
      v6.on('request', (req: { url?: string }) => v6Hits.push(req.url ?? ''));
      try {
        const err = await blocked(get(plain(), `http://[::1]:${v6Port}/`));
        expect(err).toMatchObject({ rule: 'ssrf', host: '::1' });
        expect(err.message).toBe(
          '{"error":"egress_blocked","host":"::1","message":"Outbound HTTP blocked by SSRF guard: ::1 (loopback); set EGRESS_ALLOW_PRIVATE_NETWORKS=true to allow private addresses (local development only)","rule":"ssrf"}',
        );
        expect(blocks).toMatchObject([{ rule: 'ssrf', host: '::1', origin: ORIGIN }]);
        expect(v6Hits).toEqual([]);
      } finally {
        if (bound) await close(v6);
      }
    });

    it('blocks the cloud metadata address and host names without any network', async () => {
      // Refused by the SSRF rule, not by a timeout or an answer: no connection was tried.
      const err = await blocked(get(plain(), 'http://169.254.169.254/latest/meta-data/'));
      expect(err).toMatchObject({ rule: 'ssrf', host: '169.254.169.254' });
      expect(err.detail).toBe(
        'Outbound HTTP blocked by SSRF guard: 169.254.169.254 (metadata); set EGRESS_ALLOW_PRIVATE_NETWORKS=true to allow private addresses (local development only)',
      );
      const named = await blocked(get(plain(), 'http://metadata.google.internal/computeMetadata/v1/'));
      expect(named).toMatchObject({ rule: 'ssrf', host: 'metadata.google.internal' });
      expect(blocks.map((b) => b.host)).toEqual(['169.254.169.254', 'metadata.google.internal']);
    });

    it('blocks a host name that resolves to loopback (checked at connect time)', async () => {
      const err = await blocked(get(plain(), `http://localhost:${port}/echo`));
      expect(err).toMatchObject({ kind: 'blocked', rule: 'ssrf', host: 'localhost' });
      expect(err.detail).toBe(
        'Outbound HTTP blocked by SSRF guard: localhost (loopback); set EGRESS_ALLOW_PRIVATE_NETWORKS=true to allow private addresses (local development only)',
      );
      expect(blocks).toEqual([
        {
          rule: 'ssrf',
          host: 'localhost',
          url: `http://localhost:${port}/echo`,
          message:
            'Outbound HTTP blocked by SSRF guard: localhost (loopback); set EGRESS_ALLOW_PRIVATE_NETWORKS=true to allow private addresses (local development only)',
          origin: ORIGIN,
        },
      ]);
      expect(hits).toEqual([]);
    });

    it('blocks when ANY resolved address is private (DNS rebinding), and IPv4-mapped answers', async () => {
      const sut = guard();
      await expect(get(sut, `http://rebind.test:${port}/echo`)).rejects.toMatchObject({
        rule: 'ssrf',
        host: 'rebind.test',
        detail:
          'Outbound HTTP blocked by SSRF guard: rebind.test (private); set EGRESS_ALLOW_PRIVATE_NETWORKS=true to allow private addresses (local development only)',
      });
      await expect(get(sut, `http://internal.test:${port}/echo`)).rejects.toMatchObject({ rule: 'ssrf' });
      await expect(get(sut, `http://mapped.test:${port}/echo`)).rejects.toMatchObject({
        rule: 'ssrf',
        detail:
          'Outbound HTTP blocked by SSRF guard: mapped.test (loopback); set EGRESS_ALLOW_PRIVATE_NETWORKS=true to allow private addresses (local development only)',
      });
      expect(blocks.map((b) => b.host)).toEqual(['rebind.test', 'internal.test', 'mapped.test']);
      expect(hits).toEqual([]);
    });

    it('lets a public-looking host through (test DNS maps it to the local server)', async () => {
      const res = await get(guard(), `http://public.test:${port}/echo`);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body.toString())).toEqual({ host: `public.test:${port}`, path: '/echo' });
      expect(blocks).toEqual([]);
    });

    it('reports an unresolvable host as a network error, not a block', async () => {
      for (const host of ['nowhere.test', 'unknown.test']) {
        const err = await get(guard(), `http://${host}:${port}/`).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(OutboundError);
        expect(err).not.toBeInstanceOf(EgressBlockedError);
        expect(err).toMatchObject({ kind: 'network', message: expect.stringContaining('ENOTFOUND') });
      }
      expect(blocks).toEqual([]);
    });

    it('is off with allowPrivateNetworks, which still applies the lists', async () => {
      const sut = plain({ allowPrivateNetworks: true });
      const res = await get(sut, `http://127.0.0.1:${port}/echo`);
      expect(res.status).toBe(200);
      const local = await get(sut, `http://localhost:${port}/echo`);
      expect(local.status).toBe(200);
      await expect(get(sut, `http://127.0.0.1:${port}/echo`, ['example.com'])).rejects.toMatchObject({
        rule: 'allowlist_miss',
      });
      const denied = plain({ allowPrivateNetworks: true, disallowedDomains: ['localhost'] });
      await expect(get(denied, `http://localhost:${port}/echo`)).rejects.toMatchObject({ rule: 'denylist' });
    });
  });

  describe('redirects', () => {
    const via = (target: string) => `http://public.test:${port}/redirect?to=${encodeURIComponent(target)}`;

    it('blocks a hop to the metadata address', async () => {
      const err = await blocked(get(guard(), via('http://169.254.169.254/latest/meta-data/')));
      expect(err).toMatchObject({
        rule: 'ssrf',
        host: '169.254.169.254',
        url: 'http://169.254.169.254/latest/meta-data/',
      });
      expect(blocks).toMatchObject([{ rule: 'ssrf', url: 'http://169.254.169.254/latest/meta-data/', origin: ORIGIN }]);
      expect(hits).toEqual([`public.test:${port}/redirect`]);
    });

    it('blocks a hop to a literal loopback address even though the test seam trusts it behind a name', async () => {
      const err = await blocked(get(guard(), via(`http://127.0.0.1:${port}/echo`)));
      expect(err).toMatchObject({ rule: 'ssrf', host: '127.0.0.1' });
      expect(hits).toEqual([`public.test:${port}/redirect`]);
    });

    it('blocks a hop to a name resolving to a private address at connect time', async () => {
      const err = await blocked(get(guard(), via(`http://internal.test:${port}/echo`)));
      expect(err).toMatchObject({ rule: 'ssrf', host: 'internal.test', url: `http://internal.test:${port}/echo` });
      expect(blocks).toHaveLength(1);
      expect(hits).toEqual([`public.test:${port}/redirect`]);
    });

    it('blocks a hop that leaves the allow list', async () => {
      const start = `http://api.example.test:${port}/redirect?to=${encodeURIComponent(`http://public.test:${port}/echo`)}`;
      const err = await blocked(get(guard(), start, ['*.example.test']));
      expect(err).toMatchObject({ rule: 'allowlist_miss', host: 'public.test' });
      expect(hits).toEqual([`api.example.test:${port}/redirect`]);
    });

    it('follows allowed hops', async () => {
      const res = await get(guard(), via(`http://api.example.test:${port}/echo`));
      expect(res.url).toBe(`http://api.example.test:${port}/echo`);
      expect(hits).toEqual([`public.test:${port}/redirect`, `api.example.test:${port}/echo`]);
    });
  });

  describe('allow and deny lists', () => {
    it('lets `*.example.test` hosts through a workflow allow list and refuses others', async () => {
      const sut = guard();
      const res = await get(sut, `http://api.example.test:${port}/echo`, ['*.example.test']);
      expect(res.status).toBe(200);
      await expect(get(sut, `http://public.test:${port}/echo`, ['*.example.test'])).rejects.toMatchObject({
        rule: 'allowlist_miss',
        detail: 'Outbound HTTP not allowed: public.test',
      });
      await expect(get(sut, `http://example.test:${port}/echo`, ['*.example.test'])).rejects.toMatchObject({
        rule: 'allowlist_miss',
      });
      expect(blocks.map((b) => `${b.rule}:${b.host}`)).toEqual([
        'allowlist_miss:public.test',
        'allowlist_miss:example.test',
      ]);
      expect(hits).toEqual([`api.example.test:${port}/echo`]);
    });

    it('applies default-deny', async () => {
      const sut = guard({ defaultDeny: true });
      const err = await blocked(get(sut, `http://public.test:${port}/echo`));
      expect(err).toMatchObject({
        rule: 'default_deny',
        detail: 'Outbound HTTP not allowed (default-deny): public.test',
      });
      const res = await get(sut, `http://public.test:${port}/echo`, ['public.test']);
      expect(res.status).toBe(200);
      await expect(get(sut, `http://api.example.test:${port}/echo`, ['public.test'])).rejects.toMatchObject({
        rule: 'default_deny',
      });
    });

    it('applies the deny list over any allow list', async () => {
      const sut = guard({ disallowedDomains: ['*.example.test'], allowedDomains: ['*.example.test'] });
      const err = await blocked(get(sut, `http://api.example.test:${port}/echo`, ['api.example.test']));
      expect(err).toMatchObject({ rule: 'denylist', detail: 'Outbound HTTP blocked by denylist: api.example.test' });
      expect(hits).toEqual([]);
    });

    it('intersects the deployment and workflow allow lists', async () => {
      const sut = guard({ allowedDomains: ['*.example.test'] });
      expect((await get(sut, `http://api.example.test:${port}/echo`, ['api.example.test'])).status).toBe(200);
      expect((await get(sut, `http://www.example.test:${port}/echo`)).status).toBe(200);
      // the deployment allows it, the workflow narrows it away
      await expect(get(sut, `http://www.example.test:${port}/echo`, ['api.example.test'])).rejects.toMatchObject({
        rule: 'allowlist_miss',
      });
      // the workflow allows it, the deployment does not: a workflow cannot widen egress
      await expect(get(sut, `http://public.test:${port}/echo`, ['public.test'])).rejects.toMatchObject({
        rule: 'allowlist_miss',
        host: 'public.test',
      });
      expect(hits).toEqual([`api.example.test:${port}/echo`, `www.example.test:${port}/echo`]);
    });
  });

  describe('blocks', () => {
    it('still fail with EgressBlockedError when onBlocked throws or rejects', async () => {
      const throwing = guard({}, { onBlocked: () => Promise.reject(new Error('db down')) });
      await expect(get(throwing, 'http://169.254.169.254/')).rejects.toBeInstanceOf(EgressBlockedError);
      const syncThrowing = guard(
        {},
        {
          onBlocked: () => {
            throw new Error('db down');
          },
        },
      );
      await expect(get(syncThrowing, `http://internal.test:${port}/`)).rejects.toMatchObject({ rule: 'ssrf' });
    });

    it('carry the node error text as message, toJSON and nodeErrorText', async () => {
      const err = await blocked(get(guard(), `http://public.test:${port}/x`, ['*.example.test']));
      const text =
        '{"error":"egress_blocked","host":"public.test","message":"Outbound HTTP not allowed: public.test","rule":"allowlist_miss"}';
      expect(err.nodeErrorText()).toBe(text);
      expect(JSON.stringify(err)).toBe(text);
      expect(err.message).toBe(text);
      expect(err.toJSON()).toEqual({
        error: 'egress_blocked',
        host: 'public.test',
        message: 'Outbound HTTP not allowed: public.test',
        rule: 'allowlist_miss',
      });
      expect(err).toMatchObject({ kind: 'blocked', url: `http://public.test:${port}/x`, host: 'public.test' });
    });

    it('are recorded without an origin when the request has none', async () => {
      await expect(
        guard().request({ method: 'GET', url: 'http://169.254.169.254/', timeoutMs: 1000 }),
      ).rejects.toBeInstanceOf(EgressBlockedError);
      expect(blocks).toEqual([expect.objectContaining({ rule: 'ssrf', origin: undefined })]);
    });
  });
});
