/** shared/protocol/request-signing.ts: what is signed, and every way verification fails. */
import t from 'tap';
import { generateIdentity } from '../../shared/crypto/identity.js';
import {
  bodySha256,
  parseSignedRequestHeaders,
  signRequest,
  verifyRequestBody,
  verifyRequestSignature,
} from '../../shared/protocol/request-signing.js';

const id = generateIdentity();
const now = new Date('2025-10-15T08:00:00.000Z');
const body = new Uint8Array([1, 2, 3]);
const path = '/v1/rounds/r1/contributions?x=1';
const headers = signRequest({
  method: 'post',
  path,
  body,
  institutionId: 'INST1',
  secretKey: id.secretKey,
  now: () => now,
  nonce: new Uint8Array(16).fill(5),
  auditHead: 'ab'.repeat(32),
});

t.test('headers', async (t) => {
  t.match(headers, {
    'sb-institution': 'INST1',
    'sb-timestamp': '2025-10-15T08:00:00.000Z',
    'sb-nonce': Buffer.alloc(16, 5).toString('base64'),
    'sb-content-sha256': bodySha256(body),
    'sb-audit-head': 'ab'.repeat(32),
  });
  t.equal(
    bodySha256(undefined),
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    'empty body = SHA-256 of nothing',
  );
  t.notOk(
    'sb-audit-head' in signRequest({ method: 'GET', path, institutionId: 'INST1', secretKey: id.secretKey }),
    'no audit head unless given',
  );
  t.not(
    signRequest({ method: 'GET', path, institutionId: 'INST1', secretKey: id.secretKey })['sb-nonce'],
    signRequest({ method: 'GET', path, institutionId: 'INST1', secretKey: id.secretKey })['sb-nonce'],
    'fresh nonces',
  );
});

t.test('verifies; method is case-insensitive', async (t) => {
  const h = verifyRequestSignature({ method: 'POST', path, headers, publicKey: id.publicKey, now, body });
  t.match(h, { institutionId: 'INST1', auditHead: 'ab'.repeat(32) });
  t.doesNotThrow(
    () =>
      verifyRequestSignature({
        method: 'POST',
        path,
        headers,
        publicKey: id.publicKey,
        now: new Date(now.getTime() + 300_000),
      }),
    'at the edge of the window',
  );
});

t.test('every signed field matters', async (t) => {
  const v = (o: Partial<Parameters<typeof verifyRequestSignature>[0]>) => () =>
    verifyRequestSignature({ method: 'POST', path, headers, publicKey: id.publicKey, now, ...o });
  t.throws(v({ method: 'PUT' }), { code: 'SB_ERR_REQUEST_SIGNATURE' });
  t.throws(v({ path: '/v1/rounds/r1/contributions' }), { code: 'SB_ERR_REQUEST_SIGNATURE' }, 'query is signed');
  t.throws(v({ publicKey: generateIdentity().publicKey }), { code: 'SB_ERR_REQUEST_SIGNATURE' });
  for (const [k, val] of [
    ['sb-institution', 'INST2'],
    ['sb-nonce', Buffer.alloc(16, 6).toString('base64')],
    ['sb-content-sha256', 'f'.repeat(64)],
    ['sb-audit-head', 'cd'.repeat(32)],
    ['sb-timestamp', '2025-10-15T08:00:01.000Z'],
  ] as const) {
    t.throws(v({ headers: { ...headers, [k]: val } }), { code: 'SB_ERR_REQUEST_SIGNATURE' }, k);
  }
  const { 'sb-audit-head': _drop, ...noHead } = headers;
  t.throws(v({ headers: noHead }), { code: 'SB_ERR_REQUEST_SIGNATURE' }, 'dropping the audit head');
  t.throws(v({ now: new Date(now.getTime() + 300_001) }), { code: 'SB_ERR_REQUEST_STALE' });
  t.throws(v({ now: new Date(now.getTime() - 301_000) }), { code: 'SB_ERR_REQUEST_STALE' });
  t.throws(v({ body: new Uint8Array([1, 2]) }), { code: 'SB_ERR_REQUEST_DIGEST' });
  t.throws(() => verifyRequestBody({ contentSha256: bodySha256(body) }, null), { code: 'SB_ERR_REQUEST_DIGEST' });
});

t.test('malformed headers', async (t) => {
  const p = (o: Record<string, string | string[] | undefined>) => () => parseSignedRequestHeaders({ ...headers, ...o });
  t.throws(p({ 'sb-signature': undefined }), { code: 'SB_ERR_REQUEST_UNSIGNED' });
  t.throws(p({ 'sb-timestamp': '2025-10-15 08:00:00' }), { code: 'SB_ERR_REQUEST_HEADERS' });
  t.throws(p({ 'sb-timestamp': '2025-10-15T10:00:00+02:00' }), { code: 'SB_ERR_REQUEST_HEADERS' }, 'UTC only');
  t.throws(p({ 'sb-nonce': 'abc' }), { code: 'SB_ERR_REQUEST_HEADERS' });
  t.throws(p({ 'sb-content-sha256': 'F'.repeat(64) }), { code: 'SB_ERR_REQUEST_HEADERS' });
  t.throws(p({ 'sb-signature': 'AAAA' }), { code: 'SB_ERR_REQUEST_HEADERS' });
  t.throws(p({ 'sb-institution': 'bad id!' }), { code: 'SB_ERR_REQUEST_HEADERS' });
  t.throws(
    p({ 'sb-nonce': [headers['sb-nonce'] as string, headers['sb-nonce'] as string] }),
    { code: 'SB_ERR_REQUEST_HEADERS' },
    'repeated header',
  );
});
