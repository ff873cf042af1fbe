import { decideUrl, EgressSettings, hostMatches, normaliseAllowlist } from './egress-policy';

const settings = (over: Partial<EgressSettings> = {}): EgressSettings => ({
  allowedDomains: [],
  disallowedDomains: [],
  defaultDeny: false,
  allowPrivateNetworks: false,
  ...over,
});

const decide = (url: string, workflow: string[] = [], over: Partial<EgressSettings> = {}) =>
  decideUrl(new URL(url), workflow, settings(over));

describe('hostMatches', () => {
  it('matches a `*.suffix` pattern against subdomains only, not the apex', () => {
    expect(hostMatches('*.example.com', 'api.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'a.b.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'example.com')).toBe(false);
    expect(hostMatches('*.example.com', 'badexample.com')).toBe(false);
    expect(hostMatches('*.example.com', 'example.com.evil.net')).toBe(false);
  });

  it('matches any other pattern exactly, case-insensitively and ignoring a trailing dot', () => {
    expect(hostMatches('example.com', 'example.com')).toBe(true);
    expect(hostMatches('Example.COM', 'example.com.')).toBe(true);
    expect(hostMatches('example.com.', 'EXAMPLE.com')).toBe(true);
    expect(hostMatches('example.com', 'api.example.com')).toBe(false);
    expect(hostMatches('*.Example.COM', 'API.example.com')).toBe(true);
  });

  it('never matches patterns with a scheme, path, port or spaces', () => {
    for (const pattern of [
      'https://example.com',
      'example.com/path',
      'example.com:443',
      'exa mple.com',
      ' example.com',
      'user@example.com',
      '',
      '*',
      '*.',
      '*.*.com',
    ]) {
      expect(hostMatches(pattern, 'example.com')).toBe(false);
    }
  });

  it('compares IPv6 literals without brackets and in canonical form', () => {
    expect(hostMatches('::1', '[::1]')).toBe(true);
    expect(hostMatches('[::1]', '::1')).toBe(true);
    expect(hostMatches('0:0:0:0:0:0:0:1', '::1')).toBe(true);
    expect(hostMatches('2001:DB8::1', '2001:db8:0::1')).toBe(true);
    expect(hostMatches('::1', '::2')).toBe(false);
  });

  it('matches IPv4 literals exactly and never by wildcard', () => {
    expect(hostMatches('10.0.0.1', '10.0.0.1')).toBe(true);
    expect(hostMatches('*.0.0.1', '10.0.0.1')).toBe(false);
  });

  it('matches unicode patterns against punycode hosts', () => {
    expect(hostMatches('bücher.example', 'xn--bcher-kva.example')).toBe(true);
    expect(hostMatches('*.bücher.example', new URL('http://www.bücher.example/').hostname)).toBe(true);
  });
});

describe('normaliseAllowlist', () => {
  it('trims, lower-cases and dedupes', () => {
    expect(normaliseAllowlist([' API.Example.com ', 'api.example.com', '*.Example.com', 'api.example.com.'])).toEqual({
      entries: ['api.example.com', '*.example.com'],
      invalid: [],
    });
  });

  it('accepts IP literals, bracketed IPv6 in canonical form', () => {
    expect(normaliseAllowlist(['10.0.0.1', '[::1]', '2001:DB8:0::1', 'FE80::1']).entries).toEqual([
      '10.0.0.1',
      '::1',
      '2001:db8::1',
      'fe80::1',
    ]);
  });

  it('converts unicode names to punycode and keeps punycode as is', () => {
    expect(normaliseAllowlist(['Bücher.example', '*.bücher.example', 'xn--bcher-kva.example']).entries).toEqual([
      'xn--bcher-kva.example',
      '*.xn--bcher-kva.example',
    ]);
  });

  it('reports entries that are neither host names nor IP literals', () => {
    const { entries, invalid } = normaliseAllowlist([
      'https://example.com',
      'example.com/path',
      'example.com:8080',
      'exa mple.com',
      '*',
      '*.',
      '*.*.example.com',
      'api.*.example.com',
      '-bad.example.com',
      'bad-.example.com',
      'under_score.example.com',
      `${'a'.repeat(64)}.example.com`,
      'a..b',
      '1.2.3',
      '256.1.1.1',
      'fe80::1%eth0',
      'ok.example.com',
      '',
      '   ',
      42,
      null,
      { host: 'x' },
    ]);
    expect(entries).toEqual(['ok.example.com']);
    expect(invalid).toEqual([
      'https://example.com',
      'example.com/path',
      'example.com:8080',
      'exa mple.com',
      '*',
      '*.',
      '*.*.example.com',
      'api.*.example.com',
      '-bad.example.com',
      'bad-.example.com',
      'under_score.example.com',
      `${'a'.repeat(64)}.example.com`,
      'a..b',
      '1.2.3',
      '256.1.1.1',
      'fe80::1%eth0',
      '42',
      'null',
      '{"host":"x"}',
    ]);
  });

  it('accepts single-label names and the longest legal label', () => {
    expect(normaliseAllowlist(['intranet', `${'a'.repeat(63)}.example`]).invalid).toEqual([]);
  });
});

describe('decideUrl', () => {
  it('allows everything public when no list is set', () => {
    expect(decide('https://example.com/x')).toEqual({ allowed: true });
  });

  it('refuses schemes other than http and https', () => {
    expect(decide('ftp://example.com/')).toEqual({
      allowed: false,
      rule: 'scheme',
      message: 'Only http/https schemes are allowed',
      host: 'example.com',
    });
    expect(decide('file:///etc/passwd')).toMatchObject({ allowed: false, rule: 'scheme' });
  });

  it('applies the deny list before anything else, even to allowlisted hosts', () => {
    expect(decide('https://API.evil.test:8443/x', ['*.evil.test'], { disallowedDomains: ['*.evil.test'] })).toEqual({
      allowed: false,
      rule: 'denylist',
      message: 'Outbound HTTP blocked by denylist: api.evil.test',
      host: 'api.evil.test',
    });
    expect(decide('https://evil.test/', [], { disallowedDomains: ['evil.test'] })).toMatchObject({ rule: 'denylist' });
    expect(decide('https://ok.test/', [], { disallowedDomains: ['evil.test'] })).toEqual({ allowed: true });
  });

  it('blocks literal private addresses and metadata hosts with rule ssrf', () => {
    expect(decide('http://127.0.0.1:8080/')).toEqual({
      allowed: false,
      rule: 'ssrf',
      message:
        'Outbound HTTP blocked by SSRF guard: 127.0.0.1 (loopback); set EGRESS_ALLOW_PRIVATE_NETWORKS=true to allow private addresses (local development only)',
      host: '127.0.0.1',
    });
    expect(decide('http://169.254.169.254/latest/meta-data/')).toMatchObject({
      rule: 'ssrf',
      message:
        'Outbound HTTP blocked by SSRF guard: 169.254.169.254 (metadata); set EGRESS_ALLOW_PRIVATE_NETWORKS=true to allow private addresses (local development only)',
    });
    expect(decide('http://metadata.google.internal./computeMetadata/v1/')).toEqual({
      allowed: false,
      rule: 'ssrf',
      message:
        'Outbound HTTP blocked by SSRF guard: metadata.google.internal (metadata); set EGRESS_ALLOW_PRIVATE_NETWORKS=true to allow private addresses (local development only)',
      host: 'metadata.google.internal',
    });
    expect(decide('http://10.1.2.3/')).toMatchObject({ rule: 'ssrf', host: '10.1.2.3' });
    expect(decide('http://[fd00::5]/')).toMatchObject({ rule: 'ssrf', host: 'fd00::5' });
  });

  it('sees through the URL parser normalisations of obfuscated addresses', () => {
    expect(new URL('http://0x7f000001/').hostname).toBe('127.0.0.1');
    for (const url of ['http://0x7f000001/', 'http://2130706433/', 'http://127.1/', 'http://0177.0.0.1/']) {
      expect(decide(url)).toMatchObject({ rule: 'ssrf', host: '127.0.0.1' });
    }
    expect(new URL('http://[::1]/').hostname).toBe('[::1]');
    expect(decide('http://[::1]:8080/')).toEqual({
      allowed: false,
      rule: 'ssrf',
      message:
        'Outbound HTTP blocked by SSRF guard: ::1 (loopback); set EGRESS_ALLOW_PRIVATE_NETWORKS=true to allow private addresses (local development only)',
      host: '::1',
    });
    expect(decide('http://[::ffff:127.0.0.1]/')).toMatchObject({ rule: 'ssrf', host: '::ffff:7f00:1' });
    expect(decide('http://[::ffff:a9fe:a9fe]/')).toMatchObject({
      rule: 'ssrf',
      message: expect.stringContaining('metadata'),
    });
  });

  it('checks the SSRF guard before the allow list, so allowlisting a private address does not help', () => {
    expect(decide('http://10.0.0.1/', ['10.0.0.1'])).toMatchObject({ rule: 'ssrf' });
  });

  it('skips the SSRF guard when private networks are allowed', () => {
    expect(decide('http://127.0.0.1:3000/', [], { allowPrivateNetworks: true })).toEqual({ allowed: true });
    expect(decide('http://metadata.google.internal/', [], { allowPrivateNetworks: true })).toEqual({ allowed: true });
    expect(decide('http://10.0.0.1/', ['example.com'], { allowPrivateNetworks: true })).toMatchObject({
      rule: 'allowlist_miss',
    });
  });

  it('uses the workflow allow list alone when the deployment list is empty', () => {
    expect(decide('https://api.example.test/', ['*.example.test'])).toEqual({ allowed: true });
    expect(decide('https://example.test/', ['*.example.test'])).toEqual({
      allowed: false,
      rule: 'allowlist_miss',
      message: 'Outbound HTTP not allowed: example.test',
      host: 'example.test',
    });
  });

  it('uses the deployment allow list alone when the workflow list is empty', () => {
    expect(decide('https://api.example.test/', [], { allowedDomains: ['api.example.test'] })).toEqual({
      allowed: true,
    });
    expect(decide('https://other.test/', [], { allowedDomains: ['api.example.test'] })).toMatchObject({
      rule: 'allowlist_miss',
    });
  });

  it('requires a match in both lists when both are set (intersection)', () => {
    const env = { allowedDomains: ['*.example.test', 'partner.test'] };
    expect(decide('https://api.example.test/', ['api.example.test'], env)).toEqual({ allowed: true });
    // allowed by the deployment, narrowed away by the workflow
    expect(decide('https://www.example.test/', ['api.example.test'], env)).toMatchObject({ rule: 'allowlist_miss' });
    expect(decide('https://partner.test/', ['api.example.test'], env)).toMatchObject({ rule: 'allowlist_miss' });
    // allowed by the workflow, not by the deployment: the workflow cannot widen egress
    expect(decide('https://evil.test/', ['evil.test', 'api.example.test'], env)).toEqual({
      allowed: false,
      rule: 'allowlist_miss',
      message: 'Outbound HTTP not allowed: evil.test',
      host: 'evil.test',
    });
  });

  it('ignores blank and non-string list entries', () => {
    expect(decide('https://x.test/', ['', '  '])).toEqual({ allowed: true });
    expect(decide('https://x.test/', [' x.test '])).toEqual({ allowed: true });
    expect(decide('https://x.test/', [42 as unknown as string])).toEqual({ allowed: true });
  });

  it('with default-deny refuses everything without an effective allow list or a match', () => {
    expect(decide('https://example.com/', [], { defaultDeny: true })).toEqual({
      allowed: false,
      rule: 'default_deny',
      message: 'Outbound HTTP not allowed (default-deny): example.com',
      host: 'example.com',
    });
    expect(decide('https://other.test/', ['*.example.test'], { defaultDeny: true })).toMatchObject({
      rule: 'default_deny',
    });
    expect(decide('https://api.example.test/', ['*.example.test'], { defaultDeny: true })).toEqual({ allowed: true });
    expect(
      decide('https://www.example.test/', ['api.example.test'], {
        defaultDeny: true,
        allowedDomains: ['*.example.test'],
      }),
    ).toMatchObject({ rule: 'default_deny' });
  });

  it('reports IDN hosts in punycode', () => {
    expect(decide('https://bücher.example/', ['other.test'])).toMatchObject({
      rule: 'allowlist_miss',
      host: 'xn--bcher-kva.example',
    });
    expect(decide('https://bücher.example/', ['bücher.example'])).toEqual({ allowed: true });
  });
});
