/**
 * `OutboundHttp` with the egress policy and SSRF guard (SPEC §7). Every hop (first request and each
 * redirect) goes through `decideUrl`; unless private networks are allowed, connections are made by an
 * undici `Agent` whose DNS lookup refuses to hand out an address when ANY address the host resolves
 * to is blocked. The check runs on the addresses actually connected to, so DNS rebinding between the
 * URL check and the connect cannot slip through. IP-literal hosts skip DNS and are covered by the
 * URL-level check.
 */
import { lookup as dnsLookup } from 'node:dns';
import { isIP, LookupFunction } from 'node:net';
import { Agent, fetch as undiciFetch, RequestInit as UndiciRequestInit } from 'undici';
import { blockedAddressReason } from './address-guard';
import { decideUrl, EgressBlockDecision, EgressRule, EgressSettings, normaliseHost } from './egress-policy';
import { FetchOutboundHttp } from './fetch-outbound-http';
import { OutboundError, OutboundRequest } from './outbound-http';

/** What `onBlocked` receives: enough for an `egress_block_events` row. */
export interface EgressBlock {
  rule: EgressRule;
  host: string;
  /** The URL of the blocked hop. */
  url: string;
  message: string;
  origin?: OutboundRequest['origin'];
}

export interface GuardedOutboundHttpOptions {
  maxResponseBytes: number;
  maxRedirects?: number;
  settings: EgressSettings;
  /** Called once per block before the request fails; its errors are ignored. */
  onBlocked: (block: EgressBlock) => Promise<void> | void;
  /**
   * TEST SEAM — replaces DNS for the connect-time guard (default: `dns.lookup(host, {all: true})`).
   * Lets a test map `api.example.test` to 127.0.0.1; the guard still classifies the returned addresses.
   */
  resolve?: (host: string) => Promise<string[]>;
  /**
   * TEST SEAM — addresses the connect-time guard lets through although they are blocked (e.g. the
   * loopback test server behind a mapped host name). Never consulted for IP-literal URLs, which the
   * URL-level check refuses regardless. Leave unset in production.
   */
  trustAddress?: (ip: string) => boolean;
}

/** A blocked request. `message` is the node error text `{"error":"egress_blocked",…}` (reference 5.7). */
export class EgressBlockedError extends OutboundError {
  readonly rule: EgressRule;
  readonly host: string;
  readonly url: string;
  /** The human-readable policy message, e.g. `Outbound HTTP not allowed: example.com`. */
  readonly detail: string;

  constructor(decision: EgressBlockDecision, url: string) {
    super(egressErrorText(decision), 'blocked');
    this.name = 'EgressBlockedError';
    this.rule = decision.rule;
    this.host = decision.host;
    this.url = url;
    this.detail = decision.message;
  }

  /** The JSON body (so `JSON.stringify(err)` is the node error text). */
  toJSON(): { error: 'egress_blocked'; host: string; message: string; rule: EgressRule } {
    return { error: 'egress_blocked', host: this.host, message: this.detail, rule: this.rule };
  }

  /** The node error text: `{"error":"egress_blocked","host":…,"message":…,"rule":…}`. */
  nodeErrorText(): string {
    return JSON.stringify(this.toJSON());
  }
}

function egressErrorText(decision: EgressBlockDecision): string {
  return JSON.stringify({
    error: 'egress_blocked',
    host: decision.host,
    message: decision.message,
    rule: decision.rule,
  });
}

/** Raised inside the connect lookup; recognised in the error chain undici hands back. */
class ConnectBlockedError extends Error {
  readonly code = 'EGRESS_BLOCKED';
  constructor(
    readonly host: string,
    readonly address: string,
    readonly reason: string,
  ) {
    super(`Connection to ${host} refused by the SSRF guard (${reason})`);
  }
}

export class GuardedOutboundHttp extends FetchOutboundHttp {
  private readonly settings: EgressSettings;
  private readonly onBlocked: GuardedOutboundHttpOptions['onBlocked'];
  private readonly agent: Agent | undefined;

  constructor(options: GuardedOutboundHttpOptions) {
    super({ maxResponseBytes: options.maxResponseBytes, maxRedirects: options.maxRedirects });
    this.settings = options.settings;
    this.onBlocked = options.onBlocked;
    this.agent = options.settings.allowPrivateNetworks
      ? undefined
      : new Agent({ connect: { lookup: guardedLookup(options.resolve ?? systemResolve, options.trustAddress) } });
  }

  protected override async checkUrl(url: URL, req: OutboundRequest): Promise<void> {
    const allowlist = (req.origin as { egressAllowlist?: unknown } | undefined)?.egressAllowlist;
    const decision = decideUrl(url, Array.isArray(allowlist) ? (allowlist as string[]) : [], this.settings);
    if (!decision.allowed) await this.block(decision, url, req);
  }

  protected override async doFetch(url: URL, init: RequestInit, req: OutboundRequest): Promise<Response> {
    if (!this.agent) return super.doFetch(url, init, req);
    try {
      const res = await undiciFetch(url, { ...(init as UndiciRequestInit), dispatcher: this.agent });
      return res as unknown as Response;
    } catch (err) {
      const refused = findConnectBlock(err);
      if (!refused) throw err;
      const host = normaliseHost(url.hostname);
      return this.block(
        {
          allowed: false,
          rule: 'ssrf',
          host,
          message: `Outbound HTTP blocked by SSRF guard: ${host} (${refused.reason})`,
        },
        url,
        req,
      );
    }
  }

  /** Closes the guarded connection pool. */
  async close(): Promise<void> {
    await this.agent?.close();
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  private async block(decision: EgressBlockDecision, url: URL, req: OutboundRequest): Promise<never> {
    try {
      await this.onBlocked({
        rule: decision.rule,
        host: decision.host,
        url: url.href,
        message: decision.message,
        origin: req.origin,
      });
    } catch {
      // Recording a block must never turn it into a different failure.
    }
    throw new EgressBlockedError(decision, url.href);
  }
}

function systemResolve(host: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(host, { all: true }, (err, addresses) => {
      if (err) reject(err);
      else resolve(addresses.map((entry) => entry.address));
    });
  });
}

/**
 * A `net.connect` lookup that resolves every address of the host and fails with
 * `ConnectBlockedError` when any of them is blocked, before a socket is opened.
 */
function guardedLookup(resolve: (host: string) => Promise<string[]>, trust?: (ip: string) => boolean): LookupFunction {
  return (hostname, options, callback) => {
    const wanted = familyOf(options.family);
    resolve(hostname).then(
      (resolved) => {
        const addresses = resolved.filter((address) => isIP(address) !== 0);
        for (const address of addresses) {
          const reason = blockedAddressReason(address);
          if (reason && !trust?.(address)) {
            callback(new ConnectBlockedError(hostname, address, reason), '');
            return;
          }
        }
        const usable = addresses
          .map((address) => ({ address, family: isIP(address) }))
          .filter((entry) => wanted === 0 || entry.family === wanted);
        if (usable.length === 0) {
          callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '');
        } else if (options.all) {
          callback(null, usable);
        } else {
          callback(null, usable[0].address, usable[0].family);
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}

function familyOf(family: unknown): 0 | 4 | 6 {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return 0;
}

function findConnectBlock(err: unknown, depth = 0): ConnectBlockedError | undefined {
  if (err instanceof ConnectBlockedError) return err;
  if (depth > 4 || err === null || typeof err !== 'object') return undefined;
  const { cause, errors } = err as { cause?: unknown; errors?: unknown };
  const nested = Array.isArray(errors) ? errors : [];
  for (const inner of [cause, ...nested]) {
    const found = findConnectBlock(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}
