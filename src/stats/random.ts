/**
 * A small seeded PRNG (mulberry32: 32-bit state, period 2³²) for everything that must replay:
 * bootstrap resamples, the order of A/B measurement blocks, planted test distributions.
 * Not for secrets.
 */
import { randomInt } from "node:crypto";

export type Rng = () => number;

/** Largest seed + 1: seeds are unsigned 32-bit integers. */
export const SEED_LIMIT = 2 ** 32;

/** A generator of uniform numbers in [0, 1), the same sequence for the same seed. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fresh seed to record when the caller gave none. */
export function newSeed(): number {
  return randomInt(0, SEED_LIMIT - 1);
}

/** A uniform integer in 0..n−1. */
export function randomIndex(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** A standard normal variate (Box–Muller). */
export function gaussian(rng: Rng): number {
  const u = 1 - rng(); // (0, 1]: log(0) never happens
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}
