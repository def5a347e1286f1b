/**
 * The (enrolment, date, start_time) keys of the lessons read, packed as numbers
 * (`lessonKey`), for the uniqueness check of METRICS.md "Time frame". Sized for ~32 bytes per
 * row (canonical rows are 30-40); grows by doubling.
 */
export class LessonKeys {
  private keys: Float64Array;
  private n = 0;

  constructor(sizeHintBytes: number) {
    this.keys = new Float64Array(Math.max(1024, Math.ceil(sizeHintBytes / 32)));
  }

  add(key: number): void {
    if (this.n === this.keys.length) {
      const bigger = new Float64Array(this.keys.length * 2);
      bigger.set(this.keys);
      this.keys = bigger;
    }
    this.keys[this.n++] = key;
  }

  /** Keys seen more than once (sorts in place and releases the store). */
  duplicates(): Set<number> {
    const dup = new Set<number>();
    if (this.n > 1) {
      const sorted = this.keys.subarray(0, this.n).sort();
      for (let i = 1; i < this.n; i++) if (sorted[i] === sorted[i - 1]) dup.add(sorted[i] as number);
    }
    this.keys = new Float64Array(0);
    this.n = 0;
    return dup;
  }
}
