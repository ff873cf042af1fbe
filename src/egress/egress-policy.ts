/**
 * The URL-level egress decision (docs/contract.md §7; deviation 11 in docs/deviations.md): scheme, deny list,
 * SSRF guard on literal addresses and metadata host names, then the effective allow list, which is
 * the intersection of the workflow list and the deployment list when both are set. Addresses that
 * a host name resolves to are checked again at connect time (see `GuardedOutboundHttp`).
 *
 * One policy for every protocol: `decideHost` is the host-level part of `decideUrl`, and is what a
 * connection that is not an HTTP request (SMTP) is decided by, through `GuardedOutboundHttp.vetConnection`.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { blockedAddressReason, isMetadataHost } from './address-guard';

export interface EgressSettings {
  /** Deployment allow list (`ALLOWED_HTTP_DOMAINS`). */
  allowedDomains: string[];
  /** Deployment deny list (`DISALLOWED_HTTP_DOMAINS`). */
  disallowedDomains: string[];
  /** `EGRESS_DEFAULT_DENY`: with no effective allow list nothing is allowed. */
  defaultDeny: boolean;
  /** `EGRESS_ALLOW_PRIVATE_NETWORKS`: turns the SSRF guard off (local development, tests). */
  allowPrivateNetworks: boolean;
}

export type EgressRule = 'scheme' | 'denylist' | 'ssrf' | 'default_deny' | 'allowlist_miss';

/**
 * The refusal text of the SSRF guard. It names the setting that turns the guard off, because the
 * first local test (a workflow calling 127.0.0.1) meets it before anyone has read the docs.
 */
export function ssrfBlockMessage(protocol: EgressProtocol, host: string, reason: string): string {
  return (
    `Outbound ${protocol} blocked by SSRF guard: ${host} (${reason}); ` +
    'set EGRESS_ALLOW_PRIVATE_NETWORKS=true to allow private addresses (local development only)'
  );
}

/** The protocol a decision is about; it names the protocol in block messages (`Outbound SMTP not allowed: …`). */
export type EgressProtocol = 'HTTP' | 'SMTP';

export type EgressDecision = { allowed: true } | { allowed: false; rule: EgressRule; message: string; host: string };

export type EgressBlockDecision = Extract<EgressDecision, { allowed: false }>;

const MAX_HOSTNAME_LENGTH = 253;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Lower-cased, without brackets or trailing dots; IPv6 literals in canonical form. */
export function normaliseHost(host: string): string {
  let out = host.toLowerCase();
  if (out.startsWith('[') && out.endsWith(']')) out = out.slice(1, -1);
  out = out.replace(/\.+$/, '');
  if (isIP(out) === 6) return canonicalV6(out) ?? out;
  if (/[^\p{ASCII}]/u.test(out)) return domainToASCII(out) || out;
  return out;
}

/**
 * Pattern `*.suffix` matches subdomains only (host ends with `.suffix` and is longer); any other
 * pattern equals the host exactly; patterns with scheme, path, port or spaces never match. Hosts
 * compared lower-cased without a trailing dot; IPv6 literal hosts without brackets.
 */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '' || /[\s/?#@\\]/.test(pattern)) return false;
  const bare = pattern.startsWith('[') && pattern.endsWith(']') ? pattern.slice(1, -1) : pattern;
  // A colon is only acceptable as part of an IPv6 literal; otherwise it is a scheme or a port.
  if (bare.includes(':') && isIP(bare.split('%')[0]) !== 6) return false;
  const target = normaliseHost(host);
  if (target === '') return false;
  if (pattern.startsWith('*.')) {
    const suffix = normaliseHost(pattern.slice(2));
    if (suffix === '' || suffix.includes('*') || isIP(target)) return false;
    return target.length > suffix.length + 1 && target.endsWith(`.${suffix}`);
  }
  return normaliseHost(pattern) === target;
}

/**
 * Normalises allowlist entries for storage: trims, lower-cases, dedupes; returns `{entries, invalid}`
 * where invalid entries are ones that are not a hostname (RFC 1123 labels, optional single leading
 * `*.` wildcard, IDNs as punycode or unicode — unicode converted to punycode) and not an IP literal.
 * Empty strings are dropped silently; non-strings are reported as invalid.
 */
export function normaliseAllowlist(raw: unknown[]): { entries: string[]; invalid: string[] } {
  const entries: string[] = [];
  const invalid: string[] = [];
  for (const item of raw) {
    if (typeof item !== 'string') {
      invalid.push(describe(item));
      continue;
    }
    const text = item.trim();
    if (text === '') continue;
    const entry = normaliseEntry(text);
    if (entry === null) {
      if (!invalid.includes(text)) invalid.push(text);
    } else if (!entries.includes(entry)) {
      entries.push(entry);
    }
  }
  return { entries, invalid };
}

function normaliseEntry(text: string): string | null {
  const lower = text.toLowerCase();
  const bare = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  if (isIP(bare) === 4) return bare;
  if (isIP(bare) === 6) return bare.includes('%') ? null : canonicalV6(bare);
  const wildcard = lower.startsWith('*.');
  const name = toAsciiHostname(wildcard ? lower.slice(2) : lower);
  if (name === null) return null;
  return wildcard ? `*.${name}` : name;
}

/** A valid RFC 1123 host name in ASCII (punycode), or `null`. */
function toAsciiHostname(text: string): string | null {
  let name = text.endsWith('.') ? text.slice(0, -1) : text;
  if (/[^\p{ASCII}]/u.test(name)) name = domainToASCII(name);
  if (name === '' || name.length > MAX_HOSTNAME_LENGTH) return null;
  const labels = name.split('.');
  if (!labels.every((label) => LABEL.test(label))) return null;
  // An all-numeric last label is an (incomplete) IPv4 address to URL parsers, never a host name.
  if (/^[0-9]+$/.test(labels[labels.length - 1])) return null;
  return name;
}

/**
 * The URL-level decision (before connecting), in order: scheme, deny list, SSRF guard (metadata host
 * names and blocked literal addresses, skipped with `allowPrivateNetworks`), default-deny, allow list.
 */
export function decideUrl(url: URL, workflowAllowlist: string[], settings: EgressSettings): EgressDecision {
  const host = normaliseHost(url.hostname);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { allowed: false, rule: 'scheme', message: 'Only http/https schemes are allowed', host };
  }
  return decideHost(host, workflowAllowlist, settings, 'HTTP');
}

/**
 * The host-level decision every protocol shares (the part of `decideUrl` after the scheme), in order:
 * deny list, SSRF guard (metadata host names and blocked literal addresses, skipped with
 * `allowPrivateNetworks`), default-deny, allow list. `hostname` as a URL parser gives it (an SMTP host
 * goes through `connectionHost` first). Resolved addresses are the caller's to check at connect time.
 */
export function decideHost(
  hostname: string,
  workflowAllowlist: string[],
  settings: EgressSettings,
  protocol: EgressProtocol = 'HTTP',
): EgressDecision {
  const host = normaliseHost(hostname);
  if (settings.disallowedDomains.some((pattern) => hostMatches(pattern, host))) {
    return { allowed: false, rule: 'denylist', message: `Outbound ${protocol} blocked by denylist: ${host}`, host };
  }
  if (!settings.allowPrivateNetworks) {
    const reason = isMetadataHost(host) ? 'metadata' : isIP(host) ? blockedAddressReason(host) : null;
    if (reason) {
      return {
        allowed: false,
        rule: 'ssrf',
        message: ssrfBlockMessage(protocol, host, reason),
        host,
      };
    }
  }
  const lists = [patterns(workflowAllowlist), patterns(settings.allowedDomains)].filter((list) => list.length > 0);
  const matched = lists.length > 0 && lists.every((list) => list.some((pattern) => hostMatches(pattern, host)));
  if (settings.defaultDeny && !matched) {
    return {
      allowed: false,
      rule: 'default_deny',
      message: `Outbound ${protocol} not allowed (default-deny): ${host}`,
      host,
    };
  }
  if (lists.length > 0 && !matched) {
    return { allowed: false, rule: 'allowlist_miss', message: `Outbound ${protocol} not allowed: ${host}`, host };
  }
  return { allowed: true };
}

/**
 * The host of a connection that is not made from a URL (an SMTP server), canonicalised by the WHATWG
 * URL parser exactly as the host of an `http://` URL is (case, IDN to punycode, IPv4 shorthands such as
 * `0x7f000001`, IPv6 literals with or without brackets), so the lists and the SSRF guard see what they
 * would see for HTTP. `null` unless the text is one bare host name or address: no port, user info,
 * path, percent-encoding or IPv6 zone.
 */
export function connectionHost(raw: string): string | null {
  const text = raw.trim();
  if (text === '' || /[\s/\\?#@%]/.test(text)) return null;
  let authority = text;
  if (isIP(text) === 6) authority = `[${text}]`;
  else if (!(text.startsWith('[') && text.endsWith(']')) && /[:[\]]/.test(text)) return null;
  let url: URL;
  try {
    url = new URL(`http://${authority}/`);
  } catch {
    return null;
  }
  if (url.port !== '' || url.username !== '' || url.password !== '') return null;
  const host = normaliseHost(url.hostname);
  return host === '' ? null : host;
}

function patterns(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry) => (typeof entry === 'string' && entry.trim() !== '' ? [entry.trim()] : []));
}

function canonicalV6(text: string): string | null {
  try {
    return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
}

function describe(item: unknown): string {
  try {
    return JSON.stringify(item) ?? String(item);
  } catch {
    return String(item);
  }
}
