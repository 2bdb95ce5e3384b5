import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { answerTokens, exactMatch, normalizeAnswer, tokenF1 } from "../src/index.ts"

/** Random upper/lower casing of each character, chosen by the bits. */
const recase = (text: string, bits: ReadonlyArray<boolean>): string =>
  Array.from(text)
    .map((ch, i) => (bits[i % Math.max(1, bits.length)] ? ch.toUpperCase() : ch.toLowerCase()))
    .join("")

/** Inserts article words between the whitespace-separated words of a text. */
const withArticles = (text: string, inserts: ReadonlyArray<readonly [number, string]>): string => {
  const words = text.split(/\s+/).filter((w) => w.length > 0)
  for (const [at, article] of inserts) words.splice(at % (words.length + 1), 0, article)
  return words.join(" ")
}

const article = fc.constantFrom("a", "an", "the", "A", "An", "The", "THE")
const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "grapheme", maxLength: 30 }), fc.constantFrom("Velmora", "Anna Berg", "the Iron Lantern", "1994", "U.S.A."))

describe("normalizeAnswer", () => {
  test("folds case, removes punctuation and articles, collapses whitespace", () => {
    expect(normalizeAnswer("  The City of  Velmora. ")).toBe("city of velmora")
    expect(normalizeAnswer("U.S.A.")).toBe("usa")
    expect(normalizeAnswer("An apple, a pear & the plum!")).toBe("apple pear plum")
    expect(normalizeAnswer("theatre")).toBe("theatre")
    expect(normalizeAnswer("")).toBe("")
    // A symbol between letters once made the sigma lower differently on a second pass.
    expect(normalizeAnswer("Ḁ\u{1BC9C}ς")).toBe(normalizeAnswer(normalizeAnswer("Ḁ\u{1BC9C}ς")))
    expect(answerTokens("Northwind-Pictures  Ltd")).toEqual(["northwindpictures", "ltd"])
  })

  test("law: normalization is idempotent", () => {
    fc.assert(
      fc.property(text, (t) => normalizeAnswer(normalizeAnswer(t)) === normalizeAnswer(t)),
      { numRuns: 500 },
    )
  })

  test("law: changing the case of the prediction or the gold answer does not change the verdict or the F1", () => {
    fc.assert(
      fc.property(text, text, fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), (prediction, gold, bits) => {
        const verdict = exactMatch(prediction, [gold])
        expect(exactMatch(recase(prediction, bits), [gold])).toBe(verdict)
        expect(exactMatch(prediction, [recase(gold, bits)])).toBe(verdict)
        expect(tokenF1(recase(prediction, bits), [gold])).toBe(tokenF1(prediction, [gold]))
        expect(exactMatch(recase(gold, bits), [gold])).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  test("law: adding or removing articles does not change the verdict or the F1", () => {
    const inserts = fc.array(fc.tuple(fc.nat(20), article), { maxLength: 4 })
    fc.assert(
      fc.property(text, text, inserts, inserts, (prediction, gold, a, b) => {
        const verdict = exactMatch(prediction, [gold])
        expect(exactMatch(withArticles(prediction, a), [gold])).toBe(verdict)
        expect(exactMatch(prediction, [withArticles(gold, b)])).toBe(verdict)
        expect(tokenF1(withArticles(prediction, a), [withArticles(gold, b)])).toBe(tokenF1(prediction, [gold]))
        expect(exactMatch(withArticles(gold, a), [withArticles(gold, b)])).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  test("law: punctuation around words does not change the verdict", () => {
    const mark = fc.constantFrom(".", ",", "!", "?", "'", '"', "(", ")", "-", ":", ";")
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z0-9]{1,8}$/), { minLength: 1, maxLength: 5 }), fc.array(mark, { maxLength: 6 }), (words, marks) => {
        const plain = words.join(" ")
        const marked = words.map((w, i) => `${marks[i] ?? ""}${w}${marks[i + 1] ?? ""}`).join(" ")
        expect(exactMatch(marked, [plain])).toBe(true)
      }),
      { numRuns: 300 },
    )
  })
})

describe("exactMatch and tokenF1", () => {
  test("exact match takes the best of several gold answers", () => {
    expect(exactMatch("the velmora", ["Velmora"])).toBe(true)
    expect(exactMatch("Korvik", ["Velmora", "korvik."])).toBe(true)
    expect(exactMatch("Velmora City", ["Velmora"])).toBe(false)
    expect(exactMatch("anything", [])).toBe(false)
  })

  test("token F1 matches hand-computed values", () => {
    expect(tokenF1("Northwind Pictures Ltd", ["Northwind Pictures"])).toBeCloseTo(0.8, 10)
    expect(tokenF1("Anna", ["Anna Berg"])).toBeCloseTo(2 / 3, 10)
    expect(tokenF1("x y y", ["y y z"])).toBeCloseTo(2 / 3, 10)
    expect(tokenF1("Korvik", ["Velmora"])).toBe(0)
    expect(tokenF1("the", ["a"])).toBe(1)
    expect(tokenF1("Korvik", ["Velmora", "Korvik"])).toBe(1)
  })

  test("law: F1 lies in [0, 1], is 1 on an exact match and below 1 otherwise, and is symmetric for one gold answer", () => {
    fc.assert(
      fc.property(text, text, (p, g) => {
        const f = tokenF1(p, [g])
        expect(f).toBeGreaterThanOrEqual(0)
        expect(f).toBeLessThanOrEqual(1)
        if (exactMatch(p, [g])) expect(f).toBe(1)
        else expect(f).toBeLessThan(1)
        expect(tokenF1(g, [p])).toBeCloseTo(f, 12)
      }),
      { numRuns: 500 },
    )
  })
})
