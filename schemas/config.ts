import { z } from 'zod';
import { Ed25519PublicKeyB64, InstitutionId } from './common.js';

const Path = z.string().min(1);
const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info');

/** An Ed25519 key pinned at enrolment, with the fingerprint read out over the phone. */
export const PinnedKeySchema = z.object({ ed25519_public_key: Ed25519PublicKeyB64, fingerprint: z.string().regex(/^(\d{5} ){5}\d{5}$/) }).strict();

/** Node configuration (`sectorbench-node.json`), one per institution. */
export const NodeConfigSchema = z
  .object({
    institution_id: InstitutionId,
    data_dir: Path,
    identity_key_file: Path,
    coordinator_url: z.url(),
    pinned: z.object({ coordinator: PinnedKeySchema, key_holder: PinnedKeySchema }).strict(),
    log_level: LogLevel,
  })
  .strict();

/** Coordinator configuration. */
export const CoordinatorConfigSchema = z
  .object({
    listen: z.object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8443) }).strict(),
    public_url: z.url(),
    data_dir: Path,
    identity_key_file: Path,
    tls: z.object({ cert_file: Path, key_file: Path }).strict().optional(),
    max_contribution_bytes: z.number().int().positive().default(64 * 1024 * 1024),
    request_max_age_seconds: z.number().int().positive().default(300),
    pinned_key_holder: PinnedKeySchema,
    log_level: LogLevel,
  })
  .strict();

/** Key holder configuration. */
export const KeyHolderConfigSchema = z
  .object({
    data_dir: Path,
    identity_key_file: Path,
    bfv_public_key_file: Path,
    sealed_bfv_secret_key_file: Path,
    custodians: z.object({ k: z.number().int().min(1), n: z.number().int().min(1) }).strict().refine((c) => c.k <= c.n, 'k must not exceed n'),
    coordinator_url: z.url(),
    pinned_coordinator: PinnedKeySchema,
    log_level: LogLevel,
  })
  .strict();

export type NodeConfig = z.infer<typeof NodeConfigSchema>;
export type CoordinatorConfig = z.infer<typeof CoordinatorConfigSchema>;
export type KeyHolderConfig = z.infer<typeof KeyHolderConfigSchema>;
