// The chaos run's seeded dice: one stream per concern (orders, faults, schedule), so a change in
// one part of the plan does not reshuffle the others. Same seed, same plan.
import { seededRandom } from '../src/simulator/random.js';

/** A seeded random source with the few draws the plan needs. */
export class Dice {
  private readonly next: () => number;

  /** `stream` separates independent sequences drawn from one seed. */
  constructor(seed: number, stream: number) {
    this.next = seededRandom((seed ^ Math.imul(stream + 1, 0x9e3779b1)) >>> 0);
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next();
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A float in [min, max). */
  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return Math.floor(this.between(min, max + 1));
  }

  /** One of `weights`' keys, with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    const total = entries.reduce((sum, [, w]) => sum + w, 0);
    let roll = this.next() * total;
    for (const [key, weight] of entries) {
      roll -= weight;
      if (roll < 0) return key;
    }
    const last = entries.at(-1);
    if (!last) throw new Error('weighted() needs at least one weight');
    return last[0];
  }
}

/** A fresh seed when none is given (printed, so the run can be replayed). */
export function freshSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
