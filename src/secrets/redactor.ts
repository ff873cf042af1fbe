export const MASK = '********';

const CIRCULAR = '[Circular]';
const TRUNCATED = '[Truncated]';
const MAX_DEPTH = 64;
const MIN_KNOWN_SECRET_LENGTH = 4;
const SENSITIVE_FRAGMENTS = ['password', 'secret', 'token', 'apikey', 'authorization', 'privatekey', 'accesskey'];
const KEY_CACHE_LIMIT = 10_000;

/** Stricter than the sync definition on purpose: a value kept unmasked must really look like a reference. */
const REFERENCE = /^[\w.-]+:[\w.-]+:[^\s:]+$/;
const TEMPLATE = /^\{\{[^{}]*\}\}$/;

type Json = Record<string, unknown>;

const isPlainObject = (value: unknown): value is Json => {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
};

/** Assigns without ever invoking the `__proto__` setter (JSON input can carry that key). */
const setOwn = (target: Json, key: string, value: unknown): void => {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
};

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Base64 text shorter than this is not masked on its own: too short to tell from ordinary text. */
const MIN_ENCODED_LENGTH = 8;

/**
 * The forms a secret takes on its way out, besides itself: percent-encoded (a query string, a URL
 * path) and base64 (Basic auth, a token in a header a target echoes back). Inside a longer base64
 * text a secret's encoding depends on where it starts (mod 3 bytes): for each alignment, the run
 * of characters that only the secret's own bytes determine.
 */
function encodedForms(secret: string): string[] {
  const forms = [encodeURIComponent(secret), encodeURI(secret)];
  const bytes = Buffer.from(secret, 'utf8');
  for (let offset = 0; offset < 3; offset += 1) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const whole = Math.floor((offset + bytes.length) / 3) * 4;
    const stable = encoded.slice(offset ? 4 : 0, whole);
    if (stable.length >= MIN_ENCODED_LENGTH) forms.push(stable, stable.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return forms.filter((form) => form !== secret);
}

/** One alternation, longest first so a secret containing another is replaced whole. */
function knownSecretsPattern(knownSecrets: Iterable<string> | undefined): RegExp | null {
  if (!knownSecrets) return null;
  const unique = new Set<string>();
  for (const secret of knownSecrets) {
    if (typeof secret !== 'string' || secret.length < MIN_KNOWN_SECRET_LENGTH) continue;
    unique.add(secret);
    for (const form of encodedForms(secret)) if (form.length >= MIN_KNOWN_SECRET_LENGTH) unique.add(form);
  }
  if (unique.size === 0) return null;
  const sorted = [...unique].sort((a, b) => b.length - a.length);
  return new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
}

/** Per-call state: the known-secret pattern and the objects on the current path (cycle detection). */
interface Pass {
  pattern: RegExp | null;
  ancestors: Set<object>;
}

/** Redacts every response, SSE event, dead letter, log and download (deviation 8 in docs/deviations.md). Pure: no DI. */
export class Redactor {
  private readonly sensitiveKeys = new Map<string, boolean>();

  /** Deep copy of `value` where (a) the value of any object key whose lower-cased, non-alphanumeric-stripped name CONTAINS one of: password, secret, token, apikey, authorization, privatekey, accesskey — and the `value` of a `{key, value}` pair whose `key` is such a name — becomes MASK, unless it is a secret reference (`group:service:name`, no whitespace), a lone `{{ template }}`, null/undefined, '', a boolean/number, a Date or an empty object/array (non-empty objects/arrays are masked wholesale); (b) every occurrence of any of `knownSecrets` (length ≥ 4) inside any string anywhere (keys excluded) is replaced by MASK. Cycles → '[Circular]', containers deeper than 64 → '[Truncated]', Buffers shared, Dates copied. Never mutates its input. */
  redact<T>(value: T, knownSecrets?: Iterable<string>): T {
    const pass: Pass = { pattern: knownSecretsPattern(knownSecrets), ancestors: new Set() };
    return this.walk(value, 0, pass) as T;
  }

  /** Same for a plain string (log lines): replaces known secrets. */
  redactString(text: string, knownSecrets?: Iterable<string>): string {
    const pattern = knownSecretsPattern(knownSecrets);
    return pattern ? text.replace(pattern, MASK) : text;
  }

  /** A value known to be a credential, masked as rule (a) masks one under a sensitive key (references, templates and empties kept). */
  maskCredential<T>(value: T): T | string {
    return this.maskValue(value) ?? (this.walk(value, 0, { pattern: null, ancestors: new Set() }) as T);
  }

  /** Rule (a) on its own, for callers that mask single fields (node-run columns, log bindings). */
  isSensitiveKey(key: string): boolean {
    let sensitive = this.sensitiveKeys.get(key);
    if (sensitive === undefined) {
      const normalised = key.toLowerCase().replace(/[^a-z0-9]/g, '');
      sensitive = SENSITIVE_FRAGMENTS.some((fragment) => normalised.includes(fragment));
      // Keys come from user data; bound the cache so hostile payloads cannot grow it forever.
      if (this.sensitiveKeys.size >= KEY_CACHE_LIMIT) this.sensitiveKeys.clear();
      this.sensitiveKeys.set(key, sensitive);
    }
    return sensitive;
  }

  private walk(value: unknown, depth: number, pass: Pass): unknown {
    if (typeof value === 'string') return pass.pattern ? value.replace(pass.pattern, MASK) : value;
    if (typeof value !== 'object' || value === null) return value;
    // Depth counts containers: the root is 0, so at most 65 nested levels are copied.
    if (depth > MAX_DEPTH) return TRUNCATED;
    if (value instanceof Date) return new Date(value.getTime());
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
    if (pass.ancestors.has(value)) return CIRCULAR;
    pass.ancestors.add(value);
    try {
      return this.walkContainer(value, depth, pass);
    } finally {
      pass.ancestors.delete(value);
    }
  }

  private walkContainer(value: object, depth: number, pass: Pass): unknown {
    if (Array.isArray(value)) {
      const out = new Array<unknown>(value.length);
      for (let i = 0; i < value.length; i++) out[i] = this.walk(value[i], depth + 1, pass);
      return out;
    }
    if (value instanceof Map) {
      const out = new Map<unknown, unknown>();
      for (const [key, item] of value) out.set(key, this.walkEntry(key, item, depth, pass));
      return out;
    }
    if (value instanceof Set) {
      const out = new Set<unknown>();
      for (const item of value) out.add(this.walk(item, depth + 1, pass));
      return out;
    }
    if (value instanceof Error) return this.walkError(value, depth, pass);
    const source = value as Json;
    // What JSON serialisation would emit for class instances such as Luxon DateTime.
    if (!isPlainObject(value) && typeof source.toJSON === 'function') {
      return this.walk((source.toJSON as () => unknown)(), depth, pass);
    }
    const out: Json = {};
    // `headers: [{key: 'Authorization', value: 'Bearer …'}]` (also formBody, substitutions): the name is a sibling.
    const sensitivePair = typeof source.key === 'string' && this.isSensitiveKey(source.key);
    for (const key of Object.keys(source)) {
      const item = sensitivePair && key === 'value' ? this.maskValue(source[key]) : undefined;
      setOwn(out, key, item ?? this.walkEntry(key, source[key], depth, pass));
    }
    return out;
  }

  /** Errors keep their class (loggers rely on it); message and stack are not enumerable, so copy them explicitly. */
  private walkError(error: Error, depth: number, pass: Pass): Error {
    const out = Object.create(Object.getPrototypeOf(error) as object) as Error;
    for (const key of ['name', 'message', 'stack', 'cause'] as const) {
      if (key === 'cause' ? Object.prototype.hasOwnProperty.call(error, key) : typeof error[key] === 'string') {
        Object.defineProperty(out, key, {
          value: this.walk(error[key], depth + 1, pass),
          enumerable: false,
          writable: true,
          configurable: true,
        });
      }
    }
    for (const key of Object.keys(error)) {
      setOwn(out as unknown as Json, key, this.walkEntry(key, (error as unknown as Json)[key], depth, pass));
    }
    return out;
  }

  private walkEntry(key: unknown, item: unknown, depth: number, pass: Pass): unknown {
    if (typeof key === 'string' && this.isSensitiveKey(key)) {
      const masked = this.maskValue(item);
      if (masked !== undefined) return masked;
    }
    return this.walk(item, depth + 1, pass);
  }

  /** MASK for a value under a sensitive key, or undefined when the value is kept (then walked normally). */
  private maskValue(item: unknown): string | undefined {
    if (item === null || item === undefined) return undefined;
    if (typeof item === 'string') {
      if (item === '' || REFERENCE.test(item) || TEMPLATE.test(item.trim())) return undefined;
      return MASK;
    }
    if (typeof item !== 'object') return undefined;
    if (item instanceof Date) return undefined;
    if (ArrayBuffer.isView(item)) return item.byteLength > 0 ? MASK : undefined;
    if (Array.isArray(item)) return item.length > 0 ? MASK : undefined;
    if (item instanceof Map || item instanceof Set) return item.size > 0 ? MASK : undefined;
    return Object.keys(item).length > 0 ? MASK : undefined;
  }
}

/** Puts back values the client echoed as MASK: wherever `incoming` holds exactly MASK and `previous` has a value at the same path (objects by key; arrays by index, except arrays of objects that all have a string `id`, which are matched by id, and arrays of `{key, value}` pairs, which are matched by `key`: the n-th pair named K takes the n-th pair named K before), take the previous value. A masked value thus only goes back into the field it came from: a pair renamed (`X-Api-Key` → `X-Note`) keeps MASK instead of revealing the old secret under a name nobody masks. Returns a new object; used so that saving a redacted workflow does not overwrite stored values with asterisks. */
export function restoreMasked(incoming: unknown, previous: unknown): unknown {
  return restore(incoming, previous, 0);
}

const hasStringId = (item: unknown): item is Json & { id: string } =>
  isPlainObject(item) && typeof item.id === 'string';
const isPair = (item: unknown): item is Json & { key: string } => isPlainObject(item) && typeof item.key === 'string';

function restore(incoming: unknown, previous: unknown, depth: number): unknown {
  // The previous value is copied too, so the result shares nothing mutable with either argument.
  if (incoming === MASK) return previous === undefined ? MASK : restore(previous, undefined, depth);
  // Past the depth a redacted response can have, nothing was masked: share the rest as is (also ends cycles).
  if (depth > MAX_DEPTH) return incoming;
  if (Array.isArray(incoming)) {
    const prior = Array.isArray(previous) ? previous : [];
    if (incoming.length > 0 && incoming.every(hasStringId)) {
      const byId = new Map<string, unknown>();
      for (const item of prior) if (hasStringId(item) && !byId.has(item.id)) byId.set(item.id, item);
      return incoming.map((item) => restore(item, byId.get(item.id), depth + 1));
    }
    if (incoming.length > 0 && incoming.every(isPair)) {
      const byKey = new Map<string, unknown[]>();
      for (const item of prior) if (isPair(item)) byKey.set(item.key, [...(byKey.get(item.key) ?? []), item]);
      return incoming.map((item) => restore(item, byKey.get(item.key)?.shift(), depth + 1));
    }
    return incoming.map((item, index) => restore(item, index < prior.length ? prior[index] : undefined, depth + 1));
  }
  if (isPlainObject(incoming)) {
    const prior = isPlainObject(previous) ? previous : undefined;
    const out: Json = {};
    for (const key of Object.keys(incoming)) {
      const before = prior && Object.prototype.hasOwnProperty.call(prior, key) ? prior[key] : undefined;
      setOwn(out, key, restore(incoming[key], before, depth + 1));
    }
    return out;
  }
  return incoming;
}

/** The one redactor: every response, stream, stored output, change log and block log goes through it. */
export const REDACTOR = new Redactor();
