export interface ErrorWindowOptions {
  windowMs: number;
  buckets: number;
  /** Below this many records in the window the ratio is undefined: one error in three records is no trend. */
  minRecords: number;
  now: () => number;
}

/** Errors per processed record over a sliding window of fixed buckets (12 × 5 s by default). */
export class ErrorWindow {
  private readonly options: ErrorWindowOptions;
  private readonly records: number[];
  private readonly errors: number[];
  private readonly bucketMs: number;
  private bucketStart: number;
  private index = 0;

  constructor(options: Partial<ErrorWindowOptions> = {}) {
    this.options = { windowMs: 60_000, buckets: 12, minRecords: 100, now: Date.now, ...options };
    this.records = new Array(this.options.buckets).fill(0);
    this.errors = new Array(this.options.buckets).fill(0);
    this.bucketMs = this.options.windowMs / this.options.buckets;
    this.bucketStart = this.options.now();
  }

  record(records: number, errors: number): void {
    this.rotate();
    this.records[this.index]! += records;
    this.errors[this.index]! += errors;
  }

  ratio(): number | undefined {
    this.rotate();
    const records = this.records.reduce((a, b) => a + b, 0);
    if (records < this.options.minRecords) return undefined;
    return this.errors.reduce((a, b) => a + b, 0) / records;
  }

  private rotate(): void {
    const elapsed = Math.floor((this.options.now() - this.bucketStart) / this.bucketMs);
    if (elapsed <= 0) return;
    for (let i = 0; i < Math.min(elapsed, this.options.buckets); i++) {
      this.index = (this.index + 1) % this.options.buckets;
      this.records[this.index] = 0;
      this.errors[this.index] = 0;
    }
    this.bucketStart += elapsed * this.bucketMs;
  }
}
