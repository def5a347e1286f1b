import { z } from 'zod';
import { Ed25519PublicKeyB64, InstitutionId } from './common.js';

const Path = z.string().min(1);
const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info');

/** An Ed25519 key pinned at enrolment, with the fingerprint read out over the phone. */
export const PinnedKeySchema = z
  .object({ ed25519_public_key: Ed25519PublicKeyB64, fingerprint: z.string().regex(/^(\d{5} ){5}\d{5}$/) })
  .strict();

/** A privacy officer whose signed approval lets a contribution leave (issue 6, node/audit/README.md). */
export const ApproverSchema = z
  .object({
    name: z.string().min(1).max(200),
    ed25519_public_key: Ed25519PublicKeyB64,
    fingerprint: z.string().regex(/^(\d{5} ){5}\d{5}$/),
  })
  .strict();

/**
 * How a node authenticates the coordinator's TLS certificate (issue 16), pinned at enrolment:
 * `ca`: only certificates issued by this CA (`ca_file`, PEM, relative to the home; its SHA-256
 * fingerprint `ca_sha256` as read out, checked on every use) and valid for the URL's host;
 * `certificate`: only the certificate with this SHA-256 fingerprint. Fingerprints as
 * `openssl x509 -fingerprint -sha256` prints them.
 */
export const CoordinatorTlsPinSchema = z.discriminatedUnion('pin', [
  z
    .object({ pin: z.literal('ca'), ca_file: Path, ca_sha256: z.string().regex(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/) })
    .strict(),
  z
    .object({ pin: z.literal('certificate'), cert_sha256: z.string().regex(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/) })
    .strict(),
]);
export type CoordinatorTlsPin = z.infer<typeof CoordinatorTlsPinSchema>;

/**
 * Node configuration (`<home>/node.json`), one per institution. `approvers` are the privacy
 * officers whose signed approval of exactly the vector of a round `submit` requires;
 * `approvals_required` distinct approvers must approve (2 = four-eyes).
 */
export const NodeConfigSchema = z
  .object({
    institution_id: InstitutionId,
    /** The institution's name as its people know it, for the comparison page (default: the id). */
    institution_name: z.string().trim().min(1).max(200).optional(),
    data_dir: Path,
    identity_key_file: Path,
    coordinator_url: z.url(),
    /** Required when `coordinator_url` is https (issue 16). */
    coordinator_tls: CoordinatorTlsPinSchema.optional(),
    pinned: z.object({ coordinator: PinnedKeySchema, key_holder: PinnedKeySchema }).strict(),
    approvers: z.array(ApproverSchema).max(20).default([]),
    approvals_required: z.union([z.literal(1), z.literal(2)]).default(1),
    /**
     * `http` (default): requests go to `coordinator_url` over the network; `file`: an air-gapped
     * node (issue 16, item 3): requests go into signed export files carried by hand.
     */
    transport: z.enum(['http', 'file']).optional(),
    log_level: LogLevel,
  })
  .strict()
  .refine(
    (c) => new Set(c.approvers.map((a) => a.ed25519_public_key)).size === c.approvers.length,
    'an approver key appears twice',
  )
  .refine((c) => !c.coordinator_url.startsWith('https:') || c.coordinator_tls !== undefined, {
    message: 'an https coordinator_url needs coordinator_tls (the CA or certificate pinned at enrolment)',
    path: ['coordinator_tls'],
  });

/** Coordinator configuration. */
export const CoordinatorConfigSchema = z
  .object({
    listen: z
      .object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8443) })
      .strict(),
    public_url: z.url(),
    data_dir: Path,
    identity_key_file: Path,
    tls: z.object({ cert_file: Path, key_file: Path, ca_file: Path.optional() }).strict().optional(),
    max_contribution_bytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 * 1024),
    request_max_age_seconds: z.number().int().positive().default(300),
    pinned_key_holder: PinnedKeySchema,
    log_level: LogLevel,
  })
  .strict();

/**
 * Key holder configuration (`<home>/keyholder.json`, written by `sectorbench keyholder init`).
 * Relative paths are resolved against the folder of the configuration file. The BFV secret key
 * is sealed (`sealed_bfv_secret_key_file`, AES-256-GCM) under a key split `custodians.k` of
 * `custodians.n` among named custodians (`keyholder/custody/`). `bfv_secret_key_file` names the
 * plain key of a home made before key custody; such a home releases nothing until
 * `keyholder ceremony` has sealed the key and removed the plain file.
 * `pinned_coordinator` is set by `keyholder pin-coordinator`; a release refuses a manifest whose
 * coordinator signature does not verify against it.
 */
export const KeyHolderConfigSchema = z
  .object({
    data_dir: Path,
    identity_key_file: Path,
    bfv_public_key_file: Path,
    bfv_secret_key_file: Path.optional(),
    sealed_bfv_secret_key_file: Path.optional(),
    custodians: z
      .object({ k: z.number().int().min(1), n: z.number().int().min(1) })
      .strict()
      .refine((c) => c.k <= c.n, 'k must not exceed n')
      .optional(),
    coordinator_url: z.url().optional(),
    pinned_coordinator: PinnedKeySchema.optional(),
    log_level: LogLevel,
  })
  .strict()
  .refine(
    (c) => c.bfv_secret_key_file !== undefined || c.sealed_bfv_secret_key_file !== undefined,
    'give bfv_secret_key_file or sealed_bfv_secret_key_file',
  )
  .refine(
    (c) => c.sealed_bfv_secret_key_file === undefined || c.custodians !== undefined,
    'a sealed secret key needs custodians',
  );

export type NodeConfig = z.infer<typeof NodeConfigSchema>;
export type Approver = z.infer<typeof ApproverSchema>;
export type CoordinatorConfig = z.infer<typeof CoordinatorConfigSchema>;
export type KeyHolderConfig = z.infer<typeof KeyHolderConfigSchema>;
