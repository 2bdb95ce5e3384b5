/**
 * Seeded randomness and stable hashing: every generator in this package draws from these,
 * so the same seed always gives the same tasks.
 */

/** 32-bit FNV-1a over the UTF-16 code units of `text`, with a final avalanche. */
export const hash32 = (text: string, salt = 0): number => {
  let h = (0x811c9dc5 ^ salt) >>> 0
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return mix32(h)
}

/** A bijective 32-bit mixer (the murmur3 finalizer). */
export const mix32 = (x: number): number => {
  let h = x >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b) >>> 0
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35) >>> 0
  h ^= h >>> 16
  return h >>> 0
}

/**
 * A 48-bit hash of `text` as 12 hex digits, used for stable dataset task ids.
 *
 * @example
 * hashHex("What is 2+2?").length // 12
 */
export const hashHex = (text: string): string =>
  hash32(text, 0x9e3779b9).toString(16).padStart(8, "0") + (hash32(text, 0x7f4a7c15) >>> 16).toString(16).padStart(4, "0")

/** Combines integers (a seed, a stream id, an index) into one 32-bit seed. */
export const seedOf = (...parts: ReadonlyArray<number>): number => {
  let h = 0x2545f491
  for (const p of parts) {
    h = mix32((h ^ (p >>> 0)) + 0x9e3779b9)
    h = mix32(h ^ Math.floor(p / 0x100000000))
  }
  return h >>> 0
}

/**
 * A small seeded generator (mulberry32).
 *
 * @example
 * const rng = new Rng(7)
 * rng.int(1, 6) // the same value every time for seed 7
 */
export class Rng {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** The next 32-bit unsigned integer. */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextU32() / 0x100000000
  }

  /** An integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1))
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<A>(items: ReadonlyArray<A>): A {
    return items[Math.floor(this.next() * items.length)] as A
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p
  }

  /** A shuffled copy. */
  shuffle<A>(items: ReadonlyArray<A>): Array<A> {
    const out = items.slice()
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1))
      const tmp = out[i] as A
      out[i] = out[j] as A
      out[j] = tmp
    }
    return out
  }
}
