/**
 * `OutboundHttp` with the egress policy and SSRF guard (docs/contract.md §7). Every hop (first request and each
 * redirect) goes through `decideUrl`; unless private networks are allowed, connections are made by an
 * undici `Agent` whose DNS lookup refuses to hand out an address when ANY address the host resolves
 * to is blocked. The check runs on the addresses actually connected to, so DNS rebinding between the
 * URL check and the connect cannot slip through. IP-literal hosts skip DNS and are covered by the
 * URL-level check.
 *
 * Connections a node opens itself (SMTP) go through `vetConnection`: the same host decision
 * (`decideHost`), then the host is resolved once, every address passes the same address guard, and
 * the node connects to the vetted address, never to the name again. Blocks of either kind go to the
 * same `onBlocked` (the block log), with the target in URL form (`smtp://host:port`).
 */
import { lookup as dnsLookup } from 'node:dns';
import { isIP, LookupFunction } from 'node:net';
import { Agent, Dispatcher } from 'undici';
import { blockedAddressReason } from './address-guard';
import {
  connectionHost,
  decideHost,
  decideUrl,
  EgressBlockDecision,
  EgressProtocol,
  EgressRule,
  EgressSettings,
  normaliseHost,
  ssrfBlockMessage,
} from './egress-policy';
import { Hop, request, UndiciOutboundHttp } from './undici-outbound-http';
import { OutboundError, OutboundRequest } from './outbound-http';

/** What `onBlocked` receives: enough for an `egress_block_events` row. */
export interface EgressBlock {
  rule: EgressRule;
  host: string;
  /** The URL of the blocked hop; for a connection that is not HTTP, its URL form (`smtp://host:port`). */
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

/** A connection a node opens itself instead of an HTTP request (SMTP), to be vetted before connecting. */
export interface OutboundConnectTarget {
  /** The protocol, also the scheme of the target's URL form in messages and the block log. */
  protocol: 'smtp';
  /** As configured: a host name or IP literal (bracketed or not), nothing else. */
  host: string;
  port: number;
  /** The run and node, for the workflow allowlist, the block log and the secrets it masks. */
  origin?: OutboundRequest['origin'];
}

/** Where a vetted connection goes: connect to `address`, and never resolve `host` again. */
export interface VettedConnection {
  /** The host the policy decided on (canonical: lower-case, punycode, IPv6 without brackets). */
  host: string;
  /** The address to connect to: resolved once, and passed by the address guard unless private networks are allowed. */
  address: string;
  /** The TLS server name (SNI and certificate check): the host name; undefined for an IP literal. */
  servername?: string;
  /** The target in URL form, e.g. `smtp://mail.example.com:587`. */
  url: string;
}

/** The part of an outbound client that vets connections which are not HTTP requests. */
export interface OutboundConnectionGuard {
  /** Resolves when the connection may be made; fails with `EgressBlockedError` (recorded) or another `OutboundError`. */
  vetConnection(target: OutboundConnectTarget): Promise<VettedConnection>;
}

/** The connection guard of an outbound client, if it has one (`GuardedOutboundHttp` does, a bare `UndiciOutboundHttp` does not). */
export function connectionGuardOf(client: unknown): OutboundConnectionGuard | undefined {
  const candidate = client as Partial<OutboundConnectionGuard> | null | undefined;
  return candidate && typeof candidate.vetConnection === 'function'
    ? (candidate as OutboundConnectionGuard)
    : undefined;
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

export class GuardedOutboundHttp extends UndiciOutboundHttp implements OutboundConnectionGuard {
  private readonly settings: EgressSettings;
  private readonly onBlocked: GuardedOutboundHttpOptions['onBlocked'];
  private readonly agent: Agent | undefined;
  private readonly resolve: (host: string) => Promise<string[]>;
  private readonly trustAddress: ((ip: string) => boolean) | undefined;

  constructor(options: GuardedOutboundHttpOptions) {
    super({ maxResponseBytes: options.maxResponseBytes, maxRedirects: options.maxRedirects });
    this.settings = options.settings;
    this.onBlocked = options.onBlocked;
    this.resolve = options.resolve ?? systemResolve;
    this.trustAddress = options.trustAddress;
    this.agent = options.settings.allowPrivateNetworks
      ? undefined
      : new Agent({ connect: { lookup: guardedLookup(this.resolve, this.trustAddress) } });
  }

  protected override async checkUrl(url: URL, req: OutboundRequest): Promise<void> {
    const decision = decideUrl(url, allowlistOf(req.origin), this.settings);
    if (!decision.allowed) await this.block(decision, url.href, req.origin);
  }

  /**
   * Vets a connection that is not an HTTP request (SMTP) by the same policy as an HTTP hop: the host
   * decision (`decideHost`: deny list, SSRF guard on literals and metadata names, default-deny, the
   * workflow allowlist intersected with `ALLOWED_HTTP_DOMAINS`), then one resolution whose every
   * address must pass the address guard (unless private networks are allowed). The caller connects
   * to `address` only, so DNS cannot change between this check and the connect.
   */
  async vetConnection(target: OutboundConnectTarget): Promise<VettedConnection> {
    const protocol: EgressProtocol = 'SMTP';
    const host = connectionHost(target.host);
    if (host === null) throw new OutboundError(`${protocol} host is not a valid host name or address`, 'network');
    if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
      throw new OutboundError(`${protocol} port must be a port number (1-65535)`, 'network');
    }
    const literal = isIP(host) !== 0;
    const url = `${target.protocol}://${isIP(host) === 6 ? `[${host}]` : host}:${target.port}`;
    const decision = decideHost(host, allowlistOf(target.origin), this.settings, protocol);
    if (!decision.allowed) return this.block(decision, url, target.origin);
    // An IP literal is its own address, and the host decision above already ran the guard on it.
    if (literal) return { host, address: host, url };

    let addresses: string[];
    try {
      addresses = (await this.resolve(host)).filter((address) => isIP(address) !== 0);
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (code !== 'ENOTFOUND' && code !== 'ENODATA') {
        throw new OutboundError(`${protocol} host lookup failed: ${host}`, 'network');
      }
      addresses = [];
    }
    if (addresses.length === 0) throw new OutboundError(`${protocol} host not found: ${host}`, 'network');
    if (!this.settings.allowPrivateNetworks) {
      const refused = firstBlockedAddress(addresses, this.trustAddress);
      if (refused) {
        return this.block(
          {
            allowed: false,
            rule: 'ssrf',
            host,
            message: ssrfBlockMessage(protocol, host, refused.reason),
          },
          url,
          target.origin,
        );
      }
    }
    return { host, address: addresses[0], servername: host, url };
  }

  protected override async send(url: URL, hop: Hop, req: OutboundRequest): Promise<Dispatcher.ResponseData> {
    if (!this.agent) return super.send(url, hop, req);
    try {
      return await request(this.agent, url, hop);
    } catch (err) {
      const refused = findConnectBlock(err);
      if (!refused) throw err;
      const host = normaliseHost(url.hostname);
      return this.block(
        {
          allowed: false,
          rule: 'ssrf',
          host,
          message: ssrfBlockMessage('HTTP', host, refused.reason),
        },
        url.href,
        req.origin,
      );
    }
  }

  /** Closes the guarded connection pool (and the bare one, when private networks are allowed). */
  override async close(): Promise<void> {
    await Promise.all([this.agent?.close(), super.close()]);
  }

  /**
   * Last, after the workers stopped (`beforeApplicationShutdown`): closing waits for requests in
   * flight, and a worker's shutdown aborts its runs' requests and hands the runs back first.
   */
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  private async block(decision: EgressBlockDecision, url: string, origin: OutboundRequest['origin']): Promise<never> {
    try {
      await this.onBlocked({ rule: decision.rule, host: decision.host, url, message: decision.message, origin });
    } catch {
      // Recording a block must never turn it into a different failure.
    }
    throw new EgressBlockedError(decision, url);
  }
}

/** The workflow allowlist of a call, read defensively (it comes from the run snapshot). */
function allowlistOf(origin: OutboundRequest['origin']): string[] {
  const allowlist = (origin as { egressAllowlist?: unknown } | undefined)?.egressAllowlist;
  return Array.isArray(allowlist) ? (allowlist as string[]) : [];
}

/** The first address the address guard refuses (and the test seam does not trust), with the reason. */
function firstBlockedAddress(
  addresses: readonly string[],
  trust?: (ip: string) => boolean,
): { address: string; reason: string } | undefined {
  for (const address of addresses) {
    const reason = blockedAddressReason(address);
    if (reason && !trust?.(address)) return { address, reason };
  }
  return undefined;
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
        const refused = firstBlockedAddress(addresses, trust);
        if (refused) {
          callback(new ConnectBlockedError(hostname, refused.address, refused.reason), '');
          return;
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
