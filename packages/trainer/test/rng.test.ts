import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { deriveSeed, Rng } from "../src/index.ts"

describe("Rng", () => {
  test("same seed gives the same sequence", () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const a = new Rng(seed)
        const b = new Rng(seed)
        return Array.from({ length: 20 }, () => a.next()).every((x) => x === b.next())
      }),
    )
  })

  test("a generator restored from its state continues identically", () => {
    fc.assert(
      fc.property(fc.integer(), fc.nat(50), (seed, skip) => {
        const a = new Rng(seed)
        for (let i = 0; i < skip; i++) a.next()
        const b = Rng.fromState(a.state)
        return Array.from({ length: 10 }, () => a.nextUint32()).every((x) => x === b.nextUint32())
      }),
    )
  })

  test("next() lies in [0, 1) and int(n) in [0, n)", () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 1000 }), (seed, n) => {
        const r = new Rng(seed)
        for (let i = 0; i < 50; i++) {
          const x = r.next()
          const k = r.int(n)
          if (!(x >= 0 && x < 1 && Number.isInteger(k) && k >= 0 && k < n)) return false
        }
        return true
      }),
    )
  })

  test("shuffle is a permutation", () => {
    fc.assert(
      fc.property(fc.integer(), fc.array(fc.integer()), (seed, xs) => {
        const out = new Rng(seed).shuffle(xs)
        return JSON.stringify(out.slice().sort((a, b) => a - b)) === JSON.stringify(xs.slice().sort((a, b) => a - b))
      }),
    )
  })

  test("normal variates have mean near 0 and variance near 1", () => {
    const r = new Rng(7)
    const xs = Array.from({ length: 20000 }, () => r.normal())
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length
    expect(Math.abs(mean)).toBeLessThan(0.03)
    expect(Math.abs(variance - 1)).toBeLessThan(0.05)
  })

  test("derived seeds differ across streams", () => {
    const seeds = new Set(Array.from({ length: 100 }, (_, i) => deriveSeed(1, i)))
    expect(seeds.size).toBe(100)
  })
})
