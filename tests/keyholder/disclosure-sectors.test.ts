/**
 * Issue 5 "done when": every release passes the audit and publishes >= 80% of primary-passing
 * cells (since issue 12: >= 40% in the 5-institution sector; the 3-institution sample, with the
 * contributor check on by default (docs/DECISIONS.md 87), withholds one of its 4 primary-passing
 * cell blocks to protect a count a contributor could otherwise pin: 3 of 4; under the one
 * exception, the zero rule total_row (decision 98), a second one: 2 of 4).
 */
import t from 'tap';
import { measureSector } from '../../bench/keyholder/disclosure-sectors.js';
import { sectorOf, syntheticCodebook, syntheticInstitutions } from '../../bench/keyholder/synthetic-sector.js';
import { sampleCodebook, sampleVector } from '../fixtures/crypto/sample.js';

t.test('the three sample institutions', async (t) => {
  const cb = await sampleCodebook();
  const m = await measureSector(cb, sampleVector(cb, 'sector').vector, 3);
  t.ok(m.auditPassed);
  t.ok(m.published >= 0.5 * m.primaryPassing, `published ${m.published} of ${m.primaryPassing}`);
});

t.test('20 generated sectors of 5 to 63 institutions (same as bench/keyholder/disclosure.ts)', async (t) => {
  for (let k = 0; k < 20; k++) {
    const n = 5 + Math.round((k * 58) / 19);
    const cb = syntheticCodebook(400, 100 + k);
    const m = await measureSector(cb, sectorOf(cb, syntheticInstitutions(cb, n, 200 + k)), n);
    // Issue 12 (contributor model, protected counts) costs published blocks in the smallest
    // sector: 5 institutions publish 14 of 18 primary-passing cell blocks (docs/DISCLOSURE.md).
    t.ok(
      m.auditPassed && m.published >= (n <= 5 ? 0.4 : 0.8) * m.primaryPassing,
      `${n} institutions: audit passed, published ${m.published} of ${m.primaryPassing} primary-passing cell blocks (${JSON.stringify(m.cellRules)})`,
    );
  }
});
