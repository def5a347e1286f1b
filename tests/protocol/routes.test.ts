// One place for the coordinator's paths (issue 10, Build item 3): the node signs the exact path
// it sends, so the paths the node builds (ROUTES) and the patterns the coordinator serves
// (ROUTE_PATTERNS) must agree byte for byte. Checked for every route, with ids that need
// percent-encoding.
import t from 'tap';
import { ROUTE_PATTERNS, ROUTES } from '../../shared/protocol/routes.js';

const R = '2024-2025 r/1';
const fill = (pattern: string, p: Record<string, string>) =>
  pattern.replace(/:([A-Za-z]+)/g, (_, k: string) => encodeURIComponent(p[k] ?? `<${k}>`));
const p = { roundId: R, phase: 'share', file: 'index.html', version: '2' };

t.test('every node path is the coordinator pattern with its parameters', async (t) => {
  const cases: [keyof typeof ROUTE_PATTERNS, string][] = [
    ['rounds', ROUTES.rounds()],
    ['manifest', ROUTES.manifest(R)],
    ['hePublicKey', ROUTES.hePublicKey(R)],
    ['contributions', ROUTES.contributions(R)],
    ['status', ROUTES.status(R)],
    ['release', ROUTES.release(R)],
    ['releaseCsv', ROUTES.release(R, '.csv')],
    ['releaseHtml', ROUTES.release(R, '.html')],
    ['secaggStatus', ROUTES.secaggStatus(R)],
    ['secaggPhase', ROUTES.secaggPhase(R, 'share')],
    ['auditHead', ROUTES.auditHead()],
    ['health', ROUTES.health()],
  ];
  for (const [name, path] of cases) t.equal(path, fill(ROUTE_PATTERNS[name], p), name);
  t.equal(ROUTES.manifest(R), '/v1/rounds/2024-2025%20r%2F1/manifest', 'the round id is percent-encoded');
  t.equal(ROUTES.release(R, '', 3), `${fill(ROUTE_PATTERNS.release, p)}?version=3`, 'a release version is a query');
});
