import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { wellFormed } from "./compareFixtures.ts"
import { escapeXml, lineChart, linearScale, niceTicks, shortNumber, type BandPoint, type ChartSeries } from "../src/compare/svg.ts"

const unescape = (s: string): string =>
  s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&")

const numbersIn = (d: string): Array<number> => [...d.matchAll(/-?\d+(?:\.\d+)?(?:e-?\d+)?/g)].map((m) => Number(m[0]))

const point = (x: number, mean: number, half = 0.05): BandPoint => ({ x, mean, low: mean - half, high: mean + half })

describe("niceTicks", () => {
  test("examples", () => {
    expect(niceTicks(0, 0.93, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1])
    expect(niceTicks(0, 40, 6)).toEqual([0, 10, 20, 30, 40])
    expect(niceTicks(0, 0)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1])
    expect(niceTicks(-0.1, 0.25, 5)).toEqual([-0.1, 0, 0.1, 0.2, 0.3])
  })

  test("ticks cover the range, are evenly spaced with a 1/2/5 x 10^k step, and are few", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.integer({ min: 2, max: 10 }),
        (lo, span, count) => {
          const hi = lo + span
          const ticks = niceTicks(lo, hi, count)
          expect(ticks.length).toBeGreaterThanOrEqual(2)
          const step = ticks[1]! - ticks[0]!
          // Covered up to a hair of one step (values that close to a tick share its pixel).
          expect(ticks[0]!).toBeLessThanOrEqual(lo + 1e-8 * step)
          expect(ticks[ticks.length - 1]!).toBeGreaterThanOrEqual(hi - 1e-8 * step)
          for (let i = 1; i < ticks.length; i++) expect(Math.abs(ticks[i]! - ticks[i - 1]! - step)).toBeLessThan(1e-6 * step)
          const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-12)
          expect([1, 2, 5, 10].some((m) => Math.abs(mantissa - m) < 1e-6)).toBe(true)
          expect(ticks.length).toBeLessThanOrEqual(2.5 * count + 3)
        },
      ),
    )
  })
})

describe("escapeXml", () => {
  test("escaped text has no markup characters and unescapes to the original", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const e = escapeXml(s)
        expect(/[<>"']/.test(e)).toBe(false)
        expect(/&(?!(amp|lt|gt|quot|#39);)/.test(e)).toBe(false)
        expect(unescape(e)).toBe(s)
      }),
    )
  })
})

describe("linearScale and shortNumber", () => {
  test("a linear scale maps the domain ends onto the range ends and is affine", () => {
    fc.assert(
      fc.property(fc.double({ min: -100, max: 100, noNaN: true }), fc.double({ min: 0.01, max: 100, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (a, w, t) => {
        const s = linearScale([a, a + w], [10, 210])
        expect(s(a)).toBeCloseTo(10, 6)
        expect(s(a + w)).toBeCloseTo(210, 6)
        expect(s(a + t * w)).toBeCloseTo(10 + 200 * t, 6)
      }),
    )
  })

  test("short numbers", () => {
    expect(shortNumber(12500)).toBe("12.5k")
    expect(shortNumber(2_000_000)).toBe("2M")
    expect(shortNumber(40)).toBe("40")
    expect(shortNumber(0.25)).toBe("0.25")
    expect(shortNumber(-0.5)).toBe("-0.5")
  })
})

describe("lineChart", () => {
  const spec = (series: ReadonlyArray<ChartSeries>) => ({ title: "critique-free <accuracy> & more", xLabel: "RL step", yLabel: "accuracy", series })

  test("draws one mean line and one band per series, with title, labels and legend, well formed", () => {
    const svg = lineChart(
      spec([
        { name: "icrl", points: [point(0, 0.3), point(5, 0.4), point(10, 0.5)] },
        { name: "grpo", points: [point(0, 0.3), point(5, 0.35), point(10, 0.38)] },
      ]),
    )
    const tags = wellFormed(svg)
    expect(tags[0]).toBe("svg")
    expect(svg.match(/class="line"/g)?.length).toBe(2)
    expect(svg.match(/class="band"/g)?.length).toBe(2)
    expect(svg.match(/<circle /g)?.length).toBe(6)
    expect(svg).toContain("critique-free &lt;accuracy&gt; &amp; more")
    expect(svg).toContain(">icrl</text>")
    expect(svg).toContain(">grpo</text>")
    expect(svg).toContain(">RL step</text>")
    expect(svg).not.toContain("<script")
  })

  test("a zero-width band (one seed) draws no band", () => {
    const svg = lineChart(spec([{ name: "icrl", points: [point(0, 0.3, 0), point(5, 0.4, 0)] }]))
    expect(svg).not.toContain('class="band"')
    expect(svg.match(/class="line"/g)?.length).toBe(1)
  })

  test("a non-finite point splits the line instead of bridging it; one point is a dot", () => {
    const svg = lineChart(spec([{ name: "icrl", points: [point(0, 0.3), point(1, 0.35), point(2, Number.NaN), point(3, 0.4), point(4, 0.45)] }]))
    expect(svg.match(/class="line"/g)?.length).toBe(2)
    const dot = lineChart(spec([{ name: "icrl", points: [point(3, 0.4)] }]))
    expect(dot).not.toContain('class="line"')
    expect(dot.match(/<circle /g)?.length).toBe(1)
    wellFormed(dot)
  })

  test("no data renders a labelled empty chart", () => {
    const svg = lineChart(spec([{ name: "icrl", points: [] }]))
    expect(svg).toContain("no data")
    wellFormed(svg)
  })

  test("every drawn coordinate lies inside the chart for any finite series", () => {
    const pointArb = fc
      .record({ x: fc.double({ min: -1e5, max: 1e5, noNaN: true }), mean: fc.double({ min: -50, max: 50, noNaN: true }), half: fc.double({ min: 0, max: 10, noNaN: true }) })
      .map(({ x, mean, half }) => point(x, mean, half))
    fc.assert(
      fc.property(fc.array(fc.array(pointArb, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 5 }), (seriesPoints) => {
        const svg = lineChart({ ...spec(seriesPoints.map((points, i) => ({ name: `s${i}`, points }))), width: 400, height: 250 })
        wellFormed(svg)
        for (const m of svg.matchAll(/ d="([^"]+)"/g)) {
          const nums = numbersIn(m[1]!)
          for (let i = 0; i + 1 < nums.length; i += 2) {
            expect(nums[i]!).toBeGreaterThanOrEqual(0)
            expect(nums[i]!).toBeLessThanOrEqual(400)
            expect(nums[i + 1]!).toBeGreaterThanOrEqual(0)
            expect(nums[i + 1]!).toBeLessThanOrEqual(250)
          }
        }
        for (const m of svg.matchAll(/<circle cx="([^"]+)" cy="([^"]+)"/g)) {
          expect(Number(m[1])).toBeGreaterThanOrEqual(0)
          expect(Number(m[1])).toBeLessThanOrEqual(400)
          expect(Number(m[2])).toBeGreaterThanOrEqual(0)
          expect(Number(m[2])).toBeLessThanOrEqual(250)
        }
      }),
      { numRuns: 60 },
    )
  })

  test("a higher mean is drawn higher (smaller y)", () => {
    const svg = lineChart(spec([{ name: "a", points: [point(0, 0.2, 0), point(1, 0.8, 0)] }]))
    const circles = [...svg.matchAll(/<circle cx="([^"]+)" cy="([^"]+)"/g)].map((m) => Number(m[2]))
    expect(circles[1]!).toBeLessThan(circles[0]!)
  })
})
