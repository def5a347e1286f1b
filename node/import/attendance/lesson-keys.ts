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
    return this.duplicatesWith(new Float64Array(0));
  }

  /** The keys, sorted ascending (sorts in place and releases the store). */
  sorted(): Float64Array {
    const sorted = this.keys.subarray(0, this.n).sort();
    this.keys = new Float64Array(0);
    this.n = 0;
    return sorted;
  }

  /**
   * Keys seen more than once here or in `other` (the sorted keys of another part of the file,
   * from {@link sorted}); sorts in place and releases the store.
   */
  duplicatesWith(other: Float64Array): Set<number> {
    const a = this.sorted();
    const b = other;
    const dup = new Set<number>();
    // One merge pass over both sorted runs: a key is a duplicate when it equals the one before.
    let i = 0;
    let j = 0;
    let prev = Number.NaN;
    while (i < a.length || j < b.length) {
      let v: number;
      if (j >= b.length || (i < a.length && (a[i] as number) <= (b[j] as number))) v = a[i++] as number;
      else v = b[j++] as number;
      if (v === prev) dup.add(v);
      prev = v;
    }
    return dup;
  }
}
