/**
 * The clock seam. Whatever reads the current time takes a `Clock`, in a field or parameter called
 * `now` (`now?: Clock` in options, defaulting to {@link systemClock}); tests inject a fixed or
 * moving clock. A function that only records the time of one event it is told about takes that
 * instant as a `Date` value instead (read once from the clock by its caller).
 */
export type Clock = () => Date;

/** The machine's clock. */
export const systemClock: Clock = () => new Date();
