// Seeded randomness: Stripe-looking object ids and the dice for probabilistic faults. Two
// independent streams, so adding a fault rule never changes the ids a test sees.
import { randomInt } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** mulberry32: a tiny, fast, well-distributed 32-bit PRNG; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed for simulators started without one. */
export function randomSeed(): number {
  return randomInt(0, 2 ** 31);
}

/** Generates ids shaped like Stripe's (`pi_3Q…`, 24 characters after the prefix). */
export class IdGenerator {
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  /** A new id with the given prefix, e.g. `next('pi')` → `pi_…`. */
  next(prefix: string, length = 24): string {
    let suffix = '';
    for (let i = 0; i < length; i++)
      suffix += ALPHABET[Math.floor(this.random() * ALPHABET.length)] ?? 'A';
    return `${prefix}_${suffix}`;
  }
}
