import { connectionHost, decideHost, decideUrl, EgressSettings } from './egress-policy';
import { connectionGuardOf, EgressBlock, EgressBlockedError, GuardedOutboundHttp } from './guarded-outbound-http';
import { UndiciOutboundHttp } from './undici-outbound-http';
import { OutboundError } from './outbound-http';

const SETTINGS: EgressSettings = {
  allowedDomains: [],
  disallowedDomains: [],
  defaultDeny: false,
  allowPrivateNetworks: false,
};

const ORIGIN = { workflowId: 'wf-1', runId: 'run-1', nodeId: 'mail', ownerId: 'user-1' };

describe('connectionHost (an SMTP host canonicalised as an http:// host would be)', () => {
  it('canonicalises case, trailing dots, IDN, IPv4 shorthands and IPv6 literals', () => {
    expect(connectionHost(' Mail.Example.COM. ')).toBe('mail.example.com');
    expect(connectionHost('bücher.example')).toBe('xn--bcher-kva.example');
    expect(connectionHost('0x7f000001')).toBe('127.0.0.1');
    expect(connectionHost('2130706433')).toBe('127.0.0.1');
    expect(connectionHost('127.1')).toBe('127.0.0.1');
    expect(connectionHost('[::1]')).toBe('::1');
    expect(connectionHost('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(connectionHost('::ffff:127.0.0.1')).toBe('::ffff:7f00:1');
  });

  it('refuses anything but one bare host name or address', () => {
    for (const raw of [
      '',
      '   ',
      'mail.example.com:25',
      'user@mail.example.com',
      'mail.example.com/x',
      'mail example.com',
      'mail%2eexample.com',
      'fe80::1%eth0',
      '[mail.example.com]',
      '[::1]:25',
      'mail.example.com?x',
      'a\\b',
    ]) {
      expect(connectionHost(raw)).toBeNull();
    }
  });
});

describe('decideHost (the host decision every protocol shares)', () => {
  it('decides an HTTP host exactly as decideUrl does', () => {
    const cases: [string, string[], Partial<EgressSettings>][] = [
      ['api.example.com', [], {}],
      ['127.0.0.1', [], {}],
      ['metadata.google.internal', [], {}],
      ['api.example.com', ['other.example.com'], {}],
      ['api.example.com', [], { defaultDeny: true }],
      ['api.example.com', ['api.example.com'], { disallowedDomains: ['*.example.com'] }],
      ['api.example.com', ['api.example.com'], { allowedDomains: ['other.example.com'] }],
    ];
    for (const [host, list, settings] of cases) {
      const merged = { ...SETTINGS, ...settings };
      expect(decideHost(host, list, merged)).toEqual(decideUrl(new URL(`https://${host}/x`), list, merged));
    }
  });

  it('names the protocol in its messages', () => {
    expect(decideHost('mail.example.com', ['api.example.com'], SETTINGS, 'SMTP')).toEqual({
      allowed: false,
      rule: 'allowlist_miss',
      host: 'mail.example.com',
      message: 'Outbound SMTP not allowed: mail.example.com',
    });
    expect(decideHost('10.0.0.5', [], SETTINGS, 'SMTP')).toMatchObject({
      rule: 'ssrf',
      message:
        'Outbound SMTP blocked by SSRF guard: 10.0.0.5 (private); set EGRESS_ALLOW_PRIVATE_NETWORKS=true to allow private addresses (local development only)',
    });
  });
});

describe('GuardedOutboundHttp.vetConnection', () => {
  const blocks: EgressBlock[] = [];
  const DNS: Record<string, string[]> = {
    'mail.example.test': ['93.184.216.34', '2606:2800:220:1::1'],
    'rebind.example.test': ['93.184.216.34', '10.1.2.3'],
    'nowhere.example.test': [],
  };
  const guard = (settings: Partial<EgressSettings> = {}) =>
    new GuardedOutboundHttp({
      maxResponseBytes: 1024,
      settings: { ...SETTINGS, ...settings },
      onBlocked: (block) => {
        blocks.push(block);
      },
      resolve: async (host) => {
        if (host === 'broken.example.test') throw Object.assign(new Error('boom'), { code: 'ESERVFAIL' });
        return DNS[host] ?? [];
      },
    });
  beforeEach(() => {
    blocks.length = 0;
  });

  it('returns the first resolved address, the host as TLS server name and the smtp:// form', async () => {
    await expect(
      guard().vetConnection({ protocol: 'smtp', host: 'MAIL.example.test', port: 587, origin: ORIGIN }),
    ).resolves.toEqual({
      host: 'mail.example.test',
      address: '93.184.216.34',
      servername: 'mail.example.test',
      url: 'smtp://mail.example.test:587',
    });
    await expect(guard().vetConnection({ protocol: 'smtp', host: '93.184.216.34', port: 465 })).resolves.toEqual({
      host: '93.184.216.34',
      address: '93.184.216.34',
      url: 'smtp://93.184.216.34:465',
    });
    expect(blocks).toEqual([]);
  });

  it('blocks when any resolved address is private, and records it', async () => {
    const err = await guard()
      .vetConnection({ protocol: 'smtp', host: 'rebind.example.test', port: 25, origin: ORIGIN })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EgressBlockedError);
    expect((err as EgressBlockedError).toJSON()).toEqual({
      error: 'egress_blocked',
      host: 'rebind.example.test',
      message:
        'Outbound SMTP blocked by SSRF guard: rebind.example.test (private); set EGRESS_ALLOW_PRIVATE_NETWORKS=true to allow private addresses (local development only)',
      rule: 'ssrf',
    });
    expect(blocks).toEqual([
      {
        rule: 'ssrf',
        host: 'rebind.example.test',
        url: 'smtp://rebind.example.test:25',
        message:
          'Outbound SMTP blocked by SSRF guard: rebind.example.test (private); set EGRESS_ALLOW_PRIVATE_NETWORKS=true to allow private addresses (local development only)',
        origin: ORIGIN,
      },
    ]);
  });

  it('reports an unresolvable host or a bad port as a network error, not a block', async () => {
    for (const [host, port, message] of [
      ['nowhere.example.test', 25, 'SMTP host not found: nowhere.example.test'],
      ['broken.example.test', 25, 'SMTP host lookup failed: broken.example.test'],
      ['mail.example.test', 0, 'SMTP port must be a port number (1-65535)'],
      ['mail.example.test:25', 25, 'SMTP host is not a valid host name or address'],
    ] as const) {
      const err = await guard()
        .vetConnection({ protocol: 'smtp', host, port })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OutboundError);
      expect(err).not.toBeInstanceOf(EgressBlockedError);
      expect((err as OutboundError).message).toBe(message);
    }
    expect(blocks).toEqual([]);
  });

  it('is what connectionGuardOf finds on the production client, and a bare fetch client has none', () => {
    const client = guard();
    expect(connectionGuardOf(client)).toBe(client);
    expect(connectionGuardOf(new UndiciOutboundHttp({ maxResponseBytes: 1 }))).toBeUndefined();
    expect(connectionGuardOf(undefined)).toBeUndefined();
  });
});
