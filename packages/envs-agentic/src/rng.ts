/**
 * Small seeded pseudo-random tools: integer hashing for deriving seeds and a mulberry32
 * generator. Everything in this package that looks random is a pure function of a seed.
 */

/**
 * A 32-bit integer finalizer (murmur3's fmix32): well-mixed output for nearby inputs.
 *
 * @example
 * mix32(1) !== mix32(2) // true
 */
export const mix32 = (value: number): number => {
  let x = value | 0
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b)
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
  return (x ^ (x >>> 16)) >>> 0
}

/**
 * Combines several integers into one 32-bit seed; the order of the parts matters.
 *
 * @example
 * hashSeeds(7, 0) !== hashSeeds(0, 7) // true
 */
export const hashSeeds = (...parts: ReadonlyArray<number>): number => {
  let h = 0x9e3779b9
  for (const part of parts) h = mix32((h ^ mix32((part | 0) + 0x6a09e667)) + 0x7f4a7c15)
  return h >>> 0
}

/**
 * FNV-1a hash of a string, as an unsigned 32-bit integer.
 *
 * @example
 * hashString("train") // a fixed number
 */
export const hashString = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/**
 * A mulberry32 generator with the helpers the generators need.
 *
 * @example
 * const rng = new Rng(42)
 * rng.int(6) // 0..5, the same on every run
 */
export class Rng {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [0, n); 0 when n <= 0. */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor(this.next() * n)
  }

  /** An integer in [lo, hi], both inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1)
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p
  }

  /** One element of a non-empty array. */
  pick<A>(items: ReadonlyArray<A>): A {
    const item = items[this.int(items.length)]
    if (item === undefined) throw new RangeError("Rng.pick on an empty array")
    return item
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<A>(items: ReadonlyArray<A>): Array<A> {
    const out = items.slice()
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const a = out[i] as A
      out[i] = out[j] as A
      out[j] = a
    }
    return out
  }

  /** `k` distinct elements in random order (all of them when k >= length). */
  sample<A>(items: ReadonlyArray<A>, k: number): Array<A> {
    return this.shuffle(items).slice(0, Math.max(0, k))
  }
}
