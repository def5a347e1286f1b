import t from 'tap';
import { PLAIN_MODULUS } from '../../shared/crypto/he-params.js';
import {
  addModT,
  describeSlot,
  flatten,
  layoutCiphertexts,
  layoutLength,
  subModT,
  unflatten,
  valueBound,
} from '../../shared/protocol/layout.js';
import { sampleCodebook, sampleVector } from '../fixtures/crypto/sample.js';

const cb = await sampleCodebook();

t.test('layout v1: cell-major, then groups', async (t) => {
  t.equal(layoutLength(cb), cb.cellKeys.length * 64 + cb.groupKeys.length * 24);
  t.equal(layoutLength(cb), 254 * 64 + 44 * 24);
  t.equal(layoutCiphertexts(cb), 5);
  const { vector } = sampleVector(cb, 'inst-1');
  const flat = flatten(cb, vector, { maxParticipants: 500 });
  t.equal(flat[3 * 64 + 2], BigInt(vector.cells[3]![2]!), 'cell 3 slot 2');
  t.equal(flat[254 * 64 + 5 * 24 + 1], BigInt(vector.groups[5]![1]!), 'group 5 slot 1');
  t.same(unflatten(cb, flat, '2024-2025'), vector, 'round trip');
  const padded = new BigUint64Array(5 * 4096);
  padded.set(flat);
  t.same(unflatten(cb, padded, '2024-2025'), vector, 'padding ignored');
  padded[5 * 4096 - 1] = 1n;
  t.throws(() => unflatten(cb, padded, '2024-2025'), { code: 'SB_ERR_LAYOUT_PADDING' });
  t.same(describeSlot(cb, 64 + 1), { row: 'cell', key: cb.cellKeys[1], slot: 'a_rated' });
  t.same(describeSlot(cb, 254 * 64), { row: 'group', key: 'total', slot: 'c_contrib_a' });
});

t.test('range checks name cell and slot', async (t) => {
  t.equal(valueBound(500), (PLAIN_MODULUS - 1n) / 500n);
  t.throws(() => valueBound(0), { code: 'SB_ERR_MAX_PARTICIPANTS' });
  const { vector } = sampleVector(cb, 'inst-2');
  const bound = Number(valueBound(500));
  vector.cells[7]![5] = bound;
  t.throws(() => flatten(cb, vector, { maxParticipants: 500 }), {
    code: 'SB_ERR_SLOT_RANGE',
    details: { row: 'cell', key: cb.cellKeys[7], slot: 'a_min_abs_auth' },
  });
  t.doesNotThrow(() => flatten(cb, vector, { maxParticipants: 499 }), 'fits with fewer participants');
  vector.cells[7]![5] = 0;
  vector.groups[0]![2] = -1;
  t.throws(() => flatten(cb, vector, { maxParticipants: 500 }), {
    code: 'SB_ERR_SLOT_RANGE',
    details: { row: 'group', key: 'total', slot: 'c_sq_a' },
  });
  vector.groups[0]![2] = 1.5;
  t.throws(() => flatten(cb, vector, { maxParticipants: 500 }), { code: 'SB_ERR_SLOT_RANGE' });
  vector.groups[0]![2] = 0;
  vector.groups.pop();
  t.throws(() => flatten(cb, vector, { maxParticipants: 500 }), { code: 'SB_ERR_LAYOUT_SHAPE' });
});

t.test('arithmetic modulo t for masks', async (t) => {
  const a = BigUint64Array.of(PLAIN_MODULUS - 1n, 5n, 0n);
  const m = BigUint64Array.of(3n, PLAIN_MODULUS - 2n, 0n);
  const masked = addModT(a, m);
  t.same([...masked], [2n, 3n, 0n]);
  t.same([...subModT(masked, m)], [...a]);
});
