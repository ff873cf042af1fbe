/**
 * Classifies IP addresses for the SSRF guard (docs/contract.md §7): anything that is not public unicast is
 * refused, including IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4,
 * Teredo), whose embedded address is classified as well.
 */
import { isIP } from 'node:net';

type V4Rule = readonly [base: string, bits: number, reason: string];

/** First match wins, so more specific ranges come before the ranges that contain them. */
const V4_RULES: readonly V4Rule[] = [
  ['255.255.255.255', 32, 'broadcast'],
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.169.254', 32, 'metadata'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

type V6Rule = readonly [base: string, bits: number, reason: string];

/** Ranges without an embedded IPv4 address; checked after the embedding forms. */
const V6_RULES: readonly V6Rule[] = [
  ['fd00:ec2::254', 128, 'metadata'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
  ['2001:db8::', 32, 'documentation'],
  ['3fff::', 20, 'documentation'],
  ['100::', 64, 'reserved'],
  ['2001:2::', 48, 'benchmarking'],
  ['2001:10::', 28, 'reserved'],
  ['2001:20::', 28, 'reserved'],
  ['5f00::', 16, 'reserved'],
];

/** Host names that reach a cloud instance-metadata service. */
export const METADATA_HOSTS: readonly string[] = [
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
];

/** True for a cloud metadata host name (case-insensitive, trailing dots ignored). */
export function isMetadataHost(host: string): boolean {
  return METADATA_HOSTS.includes(host.trim().toLowerCase().replace(/\.+$/, ''));
}

/**
 * `null` for a public unicast address; otherwise a short reason ('loopback', 'private', 'link-local',
 * 'metadata', 'carrier-grade NAT', 'multicast', 'unspecified', 'broadcast', 'unique-local',
 * 'site-local', 'documentation', 'benchmarking', 'reserved'). Something that is not an IP address at
 * all yields 'invalid address', so a caller never mistakes garbage for a public address.
 */
export function blockedAddressReason(ip: string): string | null {
  let text = ip.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  switch (isIP(text)) {
    case 4:
      return v4Reason(parseV4(text));
    case 6: {
      const value = parseV6(text);
      return value === null ? 'invalid address' : v6Reason(value);
    }
    default:
      return 'invalid address';
  }
}

function v4Reason(value: number): string | null {
  for (const [base, bits, reason] of V4_RULES) {
    if (inV4(value, parseV4(base), bits)) return reason;
  }
  return null;
}

function v6Reason(value: bigint): string | null {
  if (value === 0n) return 'unspecified';
  if (value === 1n) return 'loopback';
  const low32 = Number(value & 0xffffffffn);
  // ::ffff:a.b.c.d (IPv4-mapped): the socket really talks IPv4 to the embedded address.
  if (inV6(value, 0xffff_0000_0000n, 96)) return v4Reason(low32);
  // ::ffff:0:a.b.c.d (IPv4-translated) and ::a.b.c.d (IPv4-compatible, deprecated).
  if (inV6(value, 0xffff_0000_0000_0000n, 96)) return v4Reason(low32) ?? 'reserved';
  if (inV6(value, 0n, 96)) return v4Reason(low32) ?? 'reserved';
  // NAT64 well-known prefix: a public embedded address is legitimate DNS64 traffic.
  if (inV6(value, v6('64:ff9b::'), 96)) return v4Reason(low32);
  // Local-use NAT64 (RFC 8215): only the /96 layout is recognised; other layouts are refused.
  if (inV6(value, v6('64:ff9b:1::'), 48)) {
    return inV6(value, v6('64:ff9b:1::'), 96) ? v4Reason(low32) : 'reserved';
  }
  // 6to4: 2002:AABB:CCDD::/48 embeds a.b.c.d.
  if (inV6(value, v6('2002::'), 16)) return v4Reason(Number((value >> 80n) & 0xffffffffn));
  // Teredo: the client's IPv4 address is stored inverted in the low 32 bits.
  if (inV6(value, v6('2001::'), 32)) return v4Reason(~low32 >>> 0);
  for (const [base, bits, reason] of V6_RULES) {
    if (inV6(value, v6(base), bits)) return reason;
  }
  // Global unicast is 2000::/3; everything else is unassigned or special-purpose.
  if (!inV6(value, v6('2000::'), 3)) return 'reserved';
  return null;
}

function inV4(value: number, base: number, bits: number): boolean {
  const shift = 32 - bits;
  return Math.floor(value / 2 ** shift) === Math.floor(base / 2 ** shift);
}

function inV6(value: bigint, base: bigint, bits: number): boolean {
  const shift = BigInt(128 - bits);
  return value >> shift === base >> shift;
}

/** Dotted quad (already validated by `isIP`) → unsigned 32-bit number. */
function parseV4(text: string): number {
  return text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

const v6Cache = new Map<string, bigint>();
function v6(text: string): bigint {
  let value = v6Cache.get(text);
  if (value === undefined) {
    value = parseV6(text) ?? 0n;
    v6Cache.set(text, value);
  }
  return value;
}

/** IPv6 text (with `::` and an optional dotted IPv4 tail) → 128-bit value; `null` when malformed. */
function parseV6(text: string): bigint | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (i === parts.length - 1 && part.includes('.')) {
        if (isIP(part) !== 4) return null;
        const v4 = parseV4(part);
        out.push(Math.floor(v4 / 0x10000), v4 % 0x10000);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
        out.push(parseInt(part, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return all.reduce((acc, group) => (acc << 16n) | BigInt(group), 0n);
}
