/**
 * Base class of every sectorbench error: a stable machine-readable `code` (`SB_ERR_…`) and a
 * message that says what to do next. Like undici's coded errors, callers switch on `code`,
 * never on the message.
 */
export class SbError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown>;
  constructor(code: string, message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SbError';
    this.code = code;
    this.details = details;
  }
}

/** Type guard that works across module instances. */
export function isSbError(e: unknown): e is SbError {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code.startsWith('SB_ERR_');
}

/**
 * The message of a caught value: an `Error`'s `message`, anything else as text. For wrapping a
 * library's or the OS's failure into an `SbError` that says what to do next.
 */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
