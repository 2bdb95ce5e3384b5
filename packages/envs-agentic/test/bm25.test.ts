import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { Bm25Index, tokenize } from "../src/index.ts"

/** A direct BM25 over token lists, written from the formula. */
const referenceScores = (docs: ReadonlyArray<string>, query: string, k1 = 1.2, b = 0.75): Array<number> => {
  const terms = docs.map(tokenize)
  const avgdl = Math.max(1, terms.reduce((s, t) => s + t.length, 0) / Math.max(1, docs.length))
  const q = [...new Set(tokenize(query))]
  return terms.map((t) =>
    q.reduce((score, term) => {
      const tf = t.filter((x) => x === term).length
      if (tf === 0) return score
      const df = terms.filter((d) => d.includes(term)).length
      const idf = Math.log(1 + (docs.length - df + 0.5) / (df + 0.5))
      return score + (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * t.length) / avgdl))
    }, 0),
  )
}

describe("tokenize", () => {
  test("lower-cases, splits on non-alphanumerics, drops stopwords, strips plural s", () => {
    expect(tokenize("Slim-Fit Jumpsuits for women, size: X-Large")).toEqual(["slim", "fit", "jumpsuit", "women", "size", "x", "large"])
    expect(tokenize("i need a dress with glass beads")).toEqual(["dress", "glass", "bead"])
    expect(tokenize("")).toEqual([])
  })
})

describe("Bm25Index", () => {
  const docs = ["red apple", "green apple pie", "blue car"]
  const index = new Bm25Index(docs)

  test("matches hand-computed scores", () => {
    const idf = Math.log(1.6)
    const avgdl = 7 / 3
    const w = (dl: number) => (idf * 2.2) / (1 + 1.2 * (0.25 + (0.75 * dl) / avgdl))
    const hits = index.search("apple", 10)
    expect(hits.map((h) => h.doc)).toEqual([0, 1])
    expect(hits[0]!.score).toBeCloseTo(w(2), 5)
    expect(hits[1]!.score).toBeCloseTo(w(3), 5)
    expect(index.search("pie apple", 1).map((h) => h.doc)).toEqual([1])
    expect(index.search("airplane", 10)).toEqual([])
    expect(index.search("apple", 0)).toEqual([])
  })

  test("ties rank the lower document first, and searching twice gives the same result", () => {
    const tied = new Bm25Index(["cat", "dog", "cat", "cat"])
    expect(tied.search("cat", 10).map((h) => h.doc)).toEqual([0, 2, 3])
    expect(tied.search("cat", 2).map((h) => h.doc)).toEqual([0, 2])
    expect(tied.search("cat", 10)).toEqual(tied.search("cat", 10))
  })

  test("law: results agree with the reference formula, best first, limited, only matching documents", () => {
    const word = fc.constantFrom("red", "green", "blue", "apple", "pie", "car", "fast", "slow", "big", "tiny")
    const doc = fc.array(word, { minLength: 0, maxLength: 8 }).map((w) => w.join(" "))
    fc.assert(
      fc.property(fc.array(doc, { minLength: 1, maxLength: 30 }), fc.array(word, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 12 }), (corpus, q, limit) => {
        const query = q.join(" ")
        const hits = new Bm25Index(corpus).search(query, limit)
        const reference = referenceScores(corpus, query)
        const expected = reference.filter((s) => s > 0).sort((a, b) => b - a).slice(0, limit)
        expect(hits.length).toBe(expected.length)
        hits.forEach((hit, i) => {
          expect(hit.score).toBeCloseTo(expected[i]!, 4)
          expect(reference[hit.doc]!).toBeCloseTo(hit.score, 4)
          if (i > 0) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hit.score)
        })
      }),
      { numRuns: 200 },
    )
  })
})
