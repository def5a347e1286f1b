/**
 * The coordinator's programmatic API (the demo runs a whole round in-process with it).
 * @see ../shared/spec/ARCHITECTURE.md "The round"
 */
export { buildApp, type BuildAppOptions } from './app.js';
export { DEFAULT_APP_CONFIG, type CoordinatorAppConfig, type CoordinatorContext } from './context.js';
export {
  initCoordinator,
  openCoordinatorHome,
  readHomeConfig,
  appConfigFromHome,
  CoordinatorHomeConfigSchema,
  type CoordinatorHome,
  type CoordinatorHomeConfig,
} from './home.js';
export { startServer, loggerOptions, type RunningServer } from './server.js';
export { openCoordinatorDb, DB_FILE, type CoordinatorDb } from './store/db.js';
export {
  addInstitution,
  revokeInstitution,
  getInstitution,
  listInstitutions,
  type Institution,
} from './store/institutions.js';
export { pinKeyHolder, pinnedKeyHolder } from './store/pins.js';
export { findRound, getRound, listRounds, type StoredRound, type RoundState } from './store/rounds.js';
export { allSubmissions, currentSubmissions, type SubmissionInfo } from './store/submissions.js';
export { findRelease, listReleases, type StoredRelease } from './store/releases.js';
export { openRound, type OpenRoundInput } from './rounds/open-round.js';
export {
  acceptContribution,
  contributionBodyLimit,
  type AcceptContributionInput,
  type AcceptContributionResult,
} from './rounds/submit.js';
export { closeRound, type CloseRoundInput, type CloseRoundResult } from './rounds/close-round.js';
export { reopenRound, type ReopenRoundInput } from './rounds/reopen.js';
export { lateAdmissions, type LateAdmission } from './store/late.js';
export { publishRelease, type PublishReleaseInput } from './rounds/publish-release.js';
export { releaseDigest } from '../shared/protocol/release-digest.js';
export { roundStatus, type RoundStatus } from './rounds/status.js';
export { advanceRound, secaggStatus } from './secagg/phases.js';
export { acceptPhaseMessage, relayPhase } from './secagg/accept.js';
export { renderReleaseCsv, renderReleaseExcelCsv } from './release/render-csv.js';
export { renderReleaseSite, SITE_FILES } from './release/site.js';
export { registerCoordinatorCommands } from './cli.js';
