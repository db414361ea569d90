import { mulberry32 } from '../synthetic/prng';

/**
 * Small seeded PRNG for reproducible sampling and splits: mulberry32 (lib/synthetic/prng.ts), with
 * seed 0 taken as 0x9e3779b9, so every seed gives the sequence saved models and benchmarks were made with.
 */
export function rng(seed: number): () => number {
  return mulberry32(seed >>> 0 || 0x9e3779b9);
}

/** In-place Fisher–Yates shuffle. */
export function shuffle<T>(a: T[] | Int32Array, rand: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}
