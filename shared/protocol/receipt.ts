import { ReceiptSchema, type Receipt } from '../../schemas/receipt.js';
import { SbError } from '../errors/sb-error.js';
import { PURPOSE } from './round-documents.js';
import { signObject, verifyObject } from './signed-object.js';
import { formatZodIssues } from '../errors/zod-issues.js';

export type { Receipt };

/** What a receipt says, before the coordinator signs it. */
export type UnsignedReceipt = Omit<Receipt, 'coordinator_signature'>;

/**
 * Coordinator: sign a receipt for an accepted contribution (purpose `receipt`, field
 * `coordinator_signature`, over the RFC 8785 JSON of all other fields).
 * @see ../../../shared/spec/ARCHITECTURE.md "The round", step 2
 */
export function signReceipt(r: UnsignedReceipt, secretKey: Uint8Array): Receipt {
  const unsigned: UnsignedReceipt = { ...r };
  if (unsigned.audit_head === undefined) delete unsigned.audit_head;
  return ReceiptSchema.parse(signObject(PURPOSE.receipt, unsigned, 'coordinator_signature', secretKey));
}

/** Whether `r` is a receipt (schema) signed by `coordinatorKey`; false on any mismatch. */
export function isSignedReceipt(r: unknown, coordinatorKey: Uint8Array): r is Receipt {
  const parsed = ReceiptSchema.safeParse(r);
  if (!parsed.success) return false;
  return verifyObject(PURPOSE.receipt, parsed.data, 'coordinator_signature', coordinatorKey);
}

/** Parse a receipt (schema only); throws `SB_ERR_RECEIPT`. */
export function parseReceipt(r: unknown): Receipt {
  const parsed = ReceiptSchema.safeParse(r);
  if (!parsed.success)
    throw new SbError('SB_ERR_RECEIPT', `not a sectorbench receipt: ${formatZodIssues(parsed.error.issues)}`);
  return parsed.data;
}
