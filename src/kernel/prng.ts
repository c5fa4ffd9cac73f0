/** Seeded randomness (statistics, fault probabilities): a fixed seed gives the same draws. */

/** FNV-1a over a string: turns seed + key into a 32-bit PRNG seed. */
export function hashKey (key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** mulberry32: a tiny 32-bit PRNG, good enough for plausible noise (not for secrets). */
export function mulberry32 (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A PRNG for one key (a stream's channel, a fault) under a seed. */
export function prngFor (seed: number, ...key: string[]): () => number {
  return mulberry32(hashKey(`${seed}:${key.join(':')}`))
}
