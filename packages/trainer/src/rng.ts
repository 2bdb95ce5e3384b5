/**
 * A small seeded pseudo-random generator (SplitMix32 variant) whose whole state is one
 * 32-bit integer, so it can be saved in a checkpoint and resumed exactly.
 *
 * @example
 * const rng = new Rng(42)
 * rng.next() // a float in [0, 1)
 */
export class Rng {
  #state: number

  constructor(seed: number) {
    this.#state = Rng.mix(seed >>> 0) >>> 0
  }

  /** The internal state; restore it with {@link Rng.fromState}. */
  get state(): number {
    return this.#state
  }

  /** A generator that continues from a saved {@link Rng.state}. */
  static fromState(state: number): Rng {
    const rng = new Rng(0)
    rng.#state = state >>> 0
    return rng
  }

  /** A well-mixed 32-bit hash of an integer (used to derive seeds). */
  static mix(x: number): number {
    let z = (x + 0x9e3779b9) | 0
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }

  /** A uniformly random unsigned 32-bit integer. */
  nextUint32(): number {
    this.#state = (this.#state + 0x9e3779b9) >>> 0
    let z = this.#state
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad)
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97)
    return (z ^ (z >>> 15)) >>> 0
  }

  /** A float in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextUint32() / 4294967296
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** A standard normal variate (Box-Muller). */
  normal(): number {
    const u = 1 - this.next()
    const v = this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  /** A Fisher-Yates shuffle of a copy of `items`. */
  shuffle<A>(items: ReadonlyArray<A>): Array<A> {
    const out = items.slice()
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const tmp = out[i] as A
      out[i] = out[j] as A
      out[j] = tmp
    }
    return out
  }
}

/** Derives a child seed from a base seed and a stream index. */
export const deriveSeed = (seed: number, stream: number): number =>
  Rng.mix((Rng.mix(seed >>> 0) ^ Math.imul(stream + 1, 0x27d4eb2f)) >>> 0)
