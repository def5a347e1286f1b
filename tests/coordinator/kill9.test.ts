/**
 * Issue 13: a handful of kill -9 trials (bench/reliability/kill9.ts; the bench runs 25 or more):
 * the coordinator server killed during submission, `round close` and `round publish` killed
 * mid-run; no acknowledged submission lost or duplicated, every bundle exactly the acknowledged
 * contributions and their sum, one release per round.
 */
import t from 'tap';
import { runKill9Trials } from '../../bench/reliability/kill9.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';

t.teardown(() => sealWorker().close());

t.test('3 kill -9 trials (submit, close, publish): nothing acknowledged lost or duplicated', async (t) => {
  const s = await runKill9Trials({ trials: 3, institutions: 4, seed: 7, work: t.testdir({}) });
  t.same(s.kills, { submit: 1, close: 1, publish: 1 }, 'one kill in each phase');
  t.equal(s.acknowledged, 12, 'every submission acknowledged in the end (3 rounds x 4)');
  t.equal(s.lost, 0, 'no acknowledged submission lost');
  t.equal(s.duplicated, 0, 'none duplicated');
  t.equal(s.badBundles, 0, 'every bundle holds exactly the acknowledged contributions and their sum');
  t.equal(s.badReleases, 0, 'each round has exactly one release');
});
