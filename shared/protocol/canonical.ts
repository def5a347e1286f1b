import { SbError } from '../errors/sb-error.js';

/**
 * Canonical bytes of a JSON value: RFC 8785 (JSON Canonicalization Scheme), UTF-8. Used for
 * every signed sectorbench message (envelopes, manifests, receipts, releases): a signature
 * is over `signingInput(type, canonicalBytes(message without its signature))`.
 *
 * The same bytes as the `canonicalize` package (the RFC authors' reference for JavaScript), which
 * `tests/protocol/canonical.test.ts` compares it with on fixed and random values. Written here
 * because that package builds the text in JavaScript and took about 1.5 s (on a loaded machine)
 * for the 9 MB release of a 1,200-crebo round, which is canonicalized twice (signature and
 * digest). Here V8's native `JSON.stringify` writes the text, with a replacer that hands it each
 * object with its members in sorted order: primitives then come out exactly as RFC 8785 section
 * 3.2.2 says (it specifies ECMAScript's JSON.stringify: numbers by Number::toString, strings with
 * JSON escaping, lone surrogates escaped), and members in the order of section 3.2.3 (UTF-16
 * code units, `Array.prototype.sort`'s default order). An object with an array-index key ("0",
 * "17"), which JavaScript always enumerates first in numeric order, is written by a plain
 * recursive writer instead.
 *
 * @throws SbError SB_ERR_CANONICAL for a value with no canonical JSON form: undefined, a
 *   function or symbol at the top level, a function anywhere, NaN or ±Infinity (RFC 8785 section
 *   3.2.2.3), a bigint, a cycle.
 */
export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalString(value));
}

/** {@link canonicalBytes} as a string (before UTF-8 encoding). */
export function canonicalString(value: unknown): string {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') {
    throw new SbError(
      'SB_ERR_CANONICAL',
      'this value has no canonical JSON form (undefined or a function); fix the message builder.',
    );
  }
  try {
    return JSON.stringify(value, sortedMembers);
  } catch (e) {
    if (e === INDEX_KEY) {
      const out: string[] = [];
      write(value, out, 0);
      return out.join('');
    }
    if (e instanceof SbError) throw e;
    // JSON.stringify's own TypeErrors: a cycle or a bigint.
    return fail(e instanceof Error ? e.message : String(e));
  }
}

/** Thrown inside the replacer to switch to the recursive writer. */
const INDEX_KEY = Symbol('array-index key');
const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

function isIndexKey(k: string): boolean {
  const c = k.charCodeAt(0);
  return c >= 48 && c <= 57 && ARRAY_INDEX.test(k);
}

/** JSON.stringify replacer: each plain object again with its members sorted; refuses what JSON cannot hold. */
function sortedMembers(_key: string, v: unknown): unknown {
  switch (typeof v) {
    case 'number':
      if (!Number.isFinite(v)) fail(`${v} is not a JSON number`);
      return v;
    case 'function':
      return fail('a function');
    case 'object': {
      if (v === null || Array.isArray(v)) return v;
      const keys = Object.keys(v).sort();
      const o: Record<string, unknown> = Object.create(null);
      for (const k of keys) {
        if (isIndexKey(k)) throw INDEX_KEY;
        o[k] = (v as Record<string, unknown>)[k];
      }
      return o;
    }
    default:
      return v;
  }
}

/** Deeper than any message of ours; a cycle ends here instead of overflowing the stack. */
const MAX_DEPTH = 512;

function fail(what: string): never {
  throw new SbError('SB_ERR_CANONICAL', `this value has no canonical JSON form (${what}); fix the message builder.`);
}

function write(v: unknown, out: string[], depth: number): void {
  switch (typeof v) {
    case 'string':
      out.push(JSON.stringify(v));
      return;
    case 'number':
      if (!Number.isFinite(v)) fail(`${v} is not a JSON number`);
      // Number::toString, as JSON.stringify and RFC 8785 3.2.2.3 use (-0 is written 0 by both).
      out.push(String(v));
      return;
    case 'boolean':
      out.push(v ? 'true' : 'false');
      return;
    case 'object':
      break;
    default:
      fail(typeof v);
  }
  if (v === null) {
    out.push('null');
    return;
  }
  if (depth > MAX_DEPTH) fail('nested too deep, or a cycle');
  const o = v as Record<string, unknown> & { toJSON?: unknown };
  if (typeof o.toJSON === 'function') {
    write((o.toJSON as () => unknown)(), out, depth + 1);
    return;
  }
  if (Array.isArray(v)) {
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.push(',');
      const e: unknown = v[i];
      // As JSON.stringify: an array element that JSON cannot hold is written null.
      if (e === undefined || typeof e === 'symbol') out.push('null');
      else write(e, out, depth + 1);
    }
    out.push(']');
    return;
  }
  out.push('{');
  let first = true;
  for (const k of Object.keys(o).sort()) {
    const e = o[k];
    // As JSON.stringify: a member whose value JSON cannot hold is left out.
    if (e === undefined || typeof e === 'symbol') continue;
    if (!first) out.push(',');
    first = false;
    out.push(JSON.stringify(k), ':');
    write(e, out, depth + 1);
  }
  out.push('}');
}
