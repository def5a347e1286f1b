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
  return (
    e instanceof Error &&
    typeof (e as unknown as { code?: unknown }).code === 'string' &&
    (e as unknown as { code: string }).code.startsWith('SB_ERR_')
  );
}
