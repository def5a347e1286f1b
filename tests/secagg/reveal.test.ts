// The node's side of unmasking: the consistency check before any reveal, never both shares of
// one peer (also across a restart, with the record persisted as JSON), reveals only to the key
// holder's key.
import { createHash } from 'node:crypto';
import t from 'tap';
import nacl from 'tweetnacl';
import type { RevealRecord } from '../../schemas/secagg-messages.js';
import { signObject } from '../../shared/protocol/signed-object.js';
import {
  buildReveal,
  COMPLETE_GRAPH,
  type HeldShares,
  signSurvivorSet,
  type SurvivorSetSignature,
} from '../../shared/secagg/index.js';
import { advertiseAll, shareAll } from '../../bench/secagg/simulate.js';
import { simNode } from '../helpers/sim.js';

const ids = ['INST1', 'INST2', 'INST3', 'ZERO4', 'ZERO5', 'ZERO6'];
const threshold = 4; // max(ceil(2 * 6 / 3), 3)
const round = advertiseAll({ roundId: 'reveal-r2', ids, threshold, graph: COMPLETE_GRAPH, seed: 'reveal' });
await shareAll(round);
const node = (id: string) => simNode(round, id);
const sign = (signers: readonly string[], survivors: readonly string[]): SurvivorSetSignature[] =>
  signers.map((id) => signSurvivorSet(round.roundId, id, { shared: ids, survivors }, node(id).identity.secretKey));
const reveal = (id: string, survivors: string[], signatures: unknown[], previous: RevealRecord | null) =>
  buildReveal({
    secrets: node(id).secrets,
    held: node(id).held as Map<string, HeldShares>,
    sets: { shared: ids, survivors },
    signatures,
    identityKeys: round.identityKeys,
    threshold,
    previous,
    keyHolderRevealKey: round.keyHolder.publicKey,
  });
const withoutZ6 = ids.filter((i) => i !== 'ZERO6');
const withoutZ5 = ids.filter((i) => i !== 'ZERO5');

t.test('a reveal holds, per peer, exactly one kind of share, and only the key holder can open it', async (t) => {
  const r = reveal('INST1', withoutZ6, sign(withoutZ6, withoutZ6), null);
  t.same(r.record, { round_id: round.roundId, self_seed: [...withoutZ6].sort(), mask_key: ['ZERO6'] });
  t.same(r.proof.signers, [...withoutZ6].sort(), 'five survivors signed');
  const box = new Uint8Array(Buffer.from(r.reveal.box, 'base64'));
  const nonce = new Uint8Array(Buffer.from(r.reveal.nonce, 'base64'));
  const other = nacl.box.keyPair();
  t.equal(
    nacl.box.open(box, nonce, node('INST1').secrets.boxPublicKey, other.secretKey),
    null,
    'another key cannot open it',
  );
  const pt = nacl.box.open(box, nonce, node('INST1').secrets.boxPublicKey, round.keyHolder.secretKey);
  t.ok(pt, 'the key holder opens it');
  const j = JSON.parse(new TextDecoder().decode(pt as Uint8Array)) as Record<string, Record<string, string>>;
  t.same(Object.keys(j.self_seed_shares ?? {}).sort(), [...withoutZ6].sort());
  t.same(Object.keys(j.mask_key_shares ?? {}), ['ZERO6']);
});

t.test('asked for the other share of a peer: refused, also after a restart', async (t) => {
  const first = reveal('INST2', withoutZ6, sign(withoutZ6, withoutZ6), null);
  // The store persists the record as JSON; a restart reads it back.
  const stored = JSON.parse(JSON.stringify(first.record)) as RevealRecord;
  // Same sets again (a retried request): allowed, same record.
  const again = reveal('INST2', withoutZ6, sign(withoutZ6, withoutZ6), stored);
  t.same(again.record, first.record, 'repeating the same reveal reveals nothing new');
  // The coordinator now says ZERO6 survived and ZERO5 dropped, with enough signatures.
  t.throws(() => reveal('INST2', withoutZ5, sign(withoutZ5, withoutZ5), stored), {
    code: 'SB_ERR_SECAGG_DOUBLE_REVEAL',
  });
  // And the other direction: ZERO5's self-seed share was revealed; its mask-key share is refused.
  const only = ids.filter((i) => i !== 'ZERO5' && i !== 'ZERO6');
  t.throws(() => reveal('INST2', only, sign(only, only), stored), { code: 'SB_ERR_SECAGG_DOUBLE_REVEAL' });
});

t.test('a coordinator telling two groups two survivor sets gets no reveal', async (t) => {
  // Group A (INST1..3) is told ZERO6 dropped, group B (ZERO4, ZERO6) that ZERO5 dropped; each
  // set is signed only by the group told it, so neither reaches t = 4.
  const setA = withoutZ6;
  const setB = withoutZ5;
  const sigs = [...sign(['INST1', 'INST2', 'INST3'], setA), ...sign(['ZERO4', 'ZERO6'], setB)];
  for (const id of ['INST1', 'INST2', 'INST3'])
    t.throws(() => reveal(id, setA, sigs, null), { code: 'SB_ERR_SECAGG_CONSISTENCY' }, `${id} reveals nothing`);
  for (const id of ['ZERO4', 'ZERO6'])
    t.throws(() => reveal(id, setB, sigs, null), { code: 'SB_ERR_SECAGG_CONSISTENCY' }, `${id} reveals nothing`);
});

t.test('signatures that do not count', async (t) => {
  const good = sign(['INST1', 'INST2', 'INST3'], withoutZ6);
  // Signed by the wrong key (ZERO4's entry signed with INST1's key).
  const forged = signObject(
    'secagg-survivors',
    {
      type: 'sectorbench.secagg-survivors' as const,
      version: 1 as const,
      round_id: round.roundId,
      institution_id: 'ZERO4',
      shared: [...ids].sort(),
      survivors: [...withoutZ6].sort(),
    },
    'signature',
    node('INST1').identity.secretKey,
  );
  // Another round's signature by ZERO4.
  const otherRound = signObject(
    'secagg-survivors',
    {
      type: 'sectorbench.secagg-survivors' as const,
      version: 1 as const,
      round_id: 'another-round',
      institution_id: 'ZERO4',
      shared: [...ids].sort(),
      survivors: [...withoutZ6].sort(),
    },
    'signature',
    node('ZERO4').identity.secretKey,
  );
  // A duplicate of INST1's and a signature by the dropped ZERO6 (not a survivor).
  const dropped = signObject(
    'secagg-survivors',
    {
      type: 'sectorbench.secagg-survivors' as const,
      version: 1 as const,
      round_id: round.roundId,
      institution_id: 'ZERO6',
      shared: [...ids].sort(),
      survivors: [...withoutZ6].sort(),
    },
    'signature',
    node('ZERO6').identity.secretKey,
  );
  t.throws(
    () => reveal('INST1', withoutZ6, [...good, good[0], forged, otherRound, dropped, { junk: true }], null),
    { code: 'SB_ERR_SECAGG_CONSISTENCY' },
    'three valid signatures, t = 4: nothing revealed',
  );
  const fourth = sign(['ZERO4'], withoutZ6);
  t.ok(reveal('INST1', withoutZ6, [...good, ...fourth], null), 'with a fourth valid signature it reveals');
});

t.test(
  'survivor-set signatures name the sets by digest (version 2), of constant size; version 1 still counts',
  async (t) => {
    const [s] = sign(['INST1'], withoutZ6);
    // Independent derivation: the canonical JSON of {shared, survivors} (keys in this order, both
    // lists sorted, no spaces) is what JSON.stringify gives for this object.
    const expected = createHash('sha256')
      .update(JSON.stringify({ shared: [...ids].sort(), survivors: [...withoutZ6].sort() }))
      .digest('hex');
    t.same(
      Object.keys(s as object).sort(),
      ['institution_id', 'round_id', 'sets_digest', 'signature', 'type', 'version'],
      'no lists in the signature',
    );
    t.equal((s as { version: number }).version, 2);
    t.equal((s as { sets_digest: string }).sets_digest, expected, 'the digest of the sorted sets');
    // The same size for a round of 6 and a (made-up) set of 500: what makes the relay O(n) per node.
    const many = ['INST1', ...Array.from({ length: 499 }, (_, i) => `I${String(i).padStart(3, '0')}`)];
    const big = signSurvivorSet(
      round.roundId,
      'INST1',
      { shared: many, survivors: many },
      node('INST1').identity.secretKey,
    );
    t.equal(JSON.stringify(big).length, JSON.stringify(s).length, 'constant size, whatever n is');

    // A version-2 signature over other sets, or an altered digest, does not count; nor a digest
    // signed with another key.
    const otherSets = sign(['ZERO4'], withoutZ5);
    const altered = { ...sign(['ZERO5'], withoutZ6)[0], sets_digest: 'a'.repeat(64) };
    const wrongKey = signObject(
      'secagg-survivors',
      {
        type: 'sectorbench.secagg-survivors' as const,
        version: 2 as const,
        round_id: round.roundId,
        institution_id: 'ZERO4',
        sets_digest: expected,
      },
      'signature',
      node('INST2').identity.secretKey,
    );
    const three = sign(['INST1', 'INST2', 'INST3'], withoutZ6);
    t.throws(
      () => reveal('INST1', withoutZ6, [...three, ...otherSets, altered, wrongKey], null),
      { code: 'SB_ERR_SECAGG_CONSISTENCY' },
      'three valid version-2 signatures, t = 4: nothing revealed',
    );
    // A version-1 signature (both lists) over the same sets counts beside version-2 ones.
    const v1 = signObject(
      'secagg-survivors',
      {
        type: 'sectorbench.secagg-survivors' as const,
        version: 1 as const,
        round_id: round.roundId,
        institution_id: 'ZERO4',
        shared: [...ids].sort(),
        survivors: [...withoutZ6].sort(),
      },
      'signature',
      node('ZERO4').identity.secretKey,
    );
    const r = reveal('INST1', withoutZ6, [...three, v1], null);
    t.same(r.proof.signers, ['INST1', 'INST2', 'INST3', 'ZERO4'], 'three version-2 and one version-1 signature');
  },
);

t.test('fewer than t survivors, a node not among the survivors, a damaged record: nothing revealed', async (t) => {
  const three = ['INST1', 'INST2', 'INST3'];
  t.throws(() => reveal('INST1', three, sign(three, three), null), { code: 'SB_ERR_SECAGG_BELOW_THRESHOLD' });
  t.throws(() => reveal('ZERO6', withoutZ6, sign(withoutZ6, withoutZ6), null), { code: 'SB_ERR_SECAGG_PARAMS' });
  t.throws(
    () =>
      reveal('INST1', withoutZ6, sign(withoutZ6, withoutZ6), {
        round_id: 'another-round',
        self_seed: [],
        mask_key: [],
      }),
    { code: 'SB_ERR_SECAGG_REVEAL' },
  );
});
