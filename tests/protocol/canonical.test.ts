import canonicalize from 'canonicalize';
import t from 'tap';
import { canonicalBytes, canonicalString } from '../../shared/protocol/canonical.js';

// The oracle: the `canonicalize` package (RFC 8785 reference implementation for JavaScript),
// which sectorbench used before its own faster writer; every signature ever made depends on
// both giving the same bytes.
const reference = canonicalize as unknown as (v: unknown) => string | undefined;
const text = (v: unknown) => new TextDecoder().decode(canonicalBytes(v));

t.test('RFC 8785 examples written out by hand', async (t) => {
  // RFC 8785 section 3.2.3 sorting example (keys by UTF-16 code units) and 3.2.2 primitives.
  t.equal(
    text({ '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One' }),
    '{"\\r":"Carriage Return","1":"One","\u20ac":"Euro Sign","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    'member order by UTF-16 code units, array-index key among them',
  );
  t.equal(
    text({ numbers: [333333333.3333333, 1e30, 4.5, 0.002, 1e-27], literals: [null, true, false] }),
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}',
    'numbers as in RFC 8785 section 3.2.2.3',
  );
  t.equal(text({ b: [1, 'é'], a: 1e21, c: { z: null, y: true } }), '{"a":1e+21,"b":[1,"é"],"c":{"y":true,"z":null}}');
  t.equal(
    text('\u2028\ud800"\\\u0007'),
    '"\u2028\\ud800\\"\\\\\\u0007"',
    'escapes: lone surrogate, quote, backslash, control',
  );
  t.equal(text(-0), '0', '-0 is 0');
  t.equal(text({ x: undefined, y: [undefined, 1] }), '{"y":[null,1]}', 'undefined member left out, element null');
  t.equal(text({ d: new Date('2025-01-02T03:04:05Z') }), '{"d":"2025-01-02T03:04:05.000Z"}', 'toJSON is used');
  t.equal(canonicalString({ '10': 1, '9': 2, a: 3 }), '{"10":1,"9":2,"a":3}', 'index keys sorted as strings');
  const proto = JSON.parse('{"__proto__":{"x":1},"a":2}') as unknown;
  t.equal(text(proto), '{"__proto__":{"x":1},"a":2}', 'a member named __proto__ is kept as a member');
});

t.test('no canonical form: a coded error', async (t) => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const bad: [string, unknown][] = [
    ['undefined', undefined],
    ['function', () => 1],
    ['NaN', { a: Number.NaN }],
    ['Infinity', [Number.POSITIVE_INFINITY]],
    ['-Infinity in an index-keyed object', { '1': Number.NEGATIVE_INFINITY }],
    ['bigint', { a: 1n }],
    ['function member', { a: () => 1 }],
    ['cycle', cyclic],
  ];
  for (const [name, v] of bad) t.throws(() => canonicalBytes(v), { code: 'SB_ERR_CANONICAL' }, name);
});

/** Deterministic PRNG (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const CHARS = [
  'a',
  'b',
  'z',
  'A',
  '_',
  '|',
  '0',
  '1',
  '9',
  'é',
  '€',
  '\u2028',
  '"',
  '\\',
  '\n',
  '\u0001',
  '\ud83d\ude00',
  '\ud800',
  '\udfff',
  '\ufb33',
  ' ',
];
const NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.1,
  0.2 + 0.1,
  1e21,
  1e-7,
  123456789012345680000,
  5e-324,
  Number.MAX_VALUE,
  -1.5e-300,
  2 ** 53,
  333333333.3333333,
];

function randomString(r: () => number): string {
  let s = '';
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) s += CHARS[Math.floor(r() * CHARS.length)];
  return s;
}

function randomKey(r: () => number): string {
  const u = r();
  if (u < 0.15) return String(Math.floor(r() * 30)); // array-index keys
  if (u < 0.2) return `${Math.floor(r() * 30)}|4|BOL`; // starts with a digit, not an index
  if (u < 0.23) return '01'; // not canonical, so not an index
  return randomString(r);
}

function randomValue(r: () => number, depth: number): unknown {
  const u = r();
  if (depth > 4 || u < 0.3) {
    const p = r();
    if (p < 0.4) return NUMBERS[Math.floor(r() * NUMBERS.length)] ?? Math.floor(r() * 1e6) / 7;
    if (p < 0.5) return r() * 1e6;
    if (p < 0.8) return randomString(r);
    if (p < 0.9) return null;
    return r() < 0.5;
  }
  if (u < 0.55) return Array.from({ length: Math.floor(r() * 5) }, () => randomValue(r, depth + 1));
  const o: Record<string, unknown> = {};
  const n = Math.floor(r() * 7);
  for (let i = 0; i < n; i++) o[randomKey(r)] = r() < 0.05 ? undefined : randomValue(r, depth + 1);
  return o;
}

t.test('random values: the same text as the canonicalize package', async (t) => {
  const r = rng(8785);
  let differ = 0;
  let withIndexKeys = 0;
  const N = 3000;
  for (let i = 0; i < N; i++) {
    const v = randomValue(r, 0);
    const ours = canonicalString(v);
    if (ours !== reference(v)) {
      differ++;
      if (differ <= 3) t.fail(`value ${i} differs: ${ours} vs ${reference(v)}`);
    }
    if (/"(?:0|[1-9]\d*)":/.test(ours)) withIndexKeys++;
  }
  t.equal(differ, 0, `${N} random values, none differs`);
  t.ok(withIndexKeys > 100, `the fallback for index keys was exercised (${withIndexKeys} values)`);
});

t.test('a release-shaped value: the same bytes', async (t) => {
  const slots = ['a_enrolments', 'a_rated', 'b_starters', 'b_sum_x2'];
  const cells: Record<string, unknown> = {};
  for (let i = 0; i < 200; i++) {
    cells[`${20000 + i * 7}|${(i % 4) + 1}|${i % 3 ? 'BOL' : 'BBL'}`] = {
      institutions: { a: i % 9, b: i % 5 },
      slots: Object.fromEntries(slots.map((s, k) => [s, i % 4 === k ? null : i * 1000 + k])),
      suppressed:
        i % 4
          ? {}
          : { a_enrolments: { rule: 'min_institutions', note: `${i % 3} contributing institution(s), fewer than 3` } },
    };
  }
  const release = { type: 'sectorbench.release', version: 1, thresholds: { dominance_share: 0.85 }, cells };
  t.equal(Buffer.from(canonicalBytes(release)).toString('utf8'), reference(release));
});
