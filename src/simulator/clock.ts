// The simulator's clock: an injectable time source plus an offset that tests move forward
// with advanceTime, so processing settlements, idempotency expiry and webhook retries all
// run on simulated time.

/** Simulated time in milliseconds since the epoch. */
export class SimClock {
  private offsetMs = 0;

  constructor(private readonly source: () => number = Date.now) {}

  /** Current simulated time (ms). */
  now(): number {
    return this.source() + this.offsetMs;
  }

  /** Current simulated time in whole seconds, as Stripe's `created` fields carry it. */
  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** Moves simulated time forward; negative values are rejected because time never goes back. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`advanceTime needs a non-negative number of ms, got ${ms}`);
    this.offsetMs += ms;
  }
}
