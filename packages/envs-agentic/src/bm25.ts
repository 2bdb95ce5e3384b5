/**
 * Okapi BM25 ranking over a fixed document collection, with precomputed per-posting weights
 * so that a query costs one pass over its terms' postings plus a top-k selection.
 */

const stopwords = new Set([
  "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "i", "in", "is", "it", "me", "my",
  "of", "on", "or", "that", "the", "this", "to", "with", "need", "want", "looking", "find", "am", "some",
  "price", "lower", "than", "dollars", "under",
])

/**
 * Splits text into index terms: lower-case alphanumeric runs, stopwords dropped, a plural "s"
 * stripped from words longer than three letters (not "ss").
 *
 * @example
 * tokenize("Slim-Fit Jumpsuits for women") // ["slim", "fit", "jumpsuit", "women"]
 */
export const tokenize = (text: string): Array<string> => {
  const out: Array<string> = []
  let start = -1
  const lower = text.toLowerCase()
  for (let i = 0; i <= lower.length; i++) {
    const c = i < lower.length ? lower.charCodeAt(i) : 32
    const word = (c >= 97 && c <= 122) || (c >= 48 && c <= 57)
    if (word) {
      if (start < 0) start = i
      continue
    }
    if (start >= 0) {
      let term = lower.slice(start, i)
      start = -1
      if (stopwords.has(term)) continue
      if (term.length > 3 && term.endsWith("s") && !term.endsWith("ss")) term = term.slice(0, -1)
      out.push(term)
    }
  }
  return out
}

/** One ranked document. */
export interface Bm25Hit {
  readonly doc: number
  readonly score: number
}

/** BM25 parameters. */
export interface Bm25Options {
  readonly k1?: number
  readonly b?: number
}

/**
 * A BM25 index over documents given as text. Ties rank the lower document index first, so
 * results are deterministic.
 *
 * @example
 * const index = new Bm25Index(["red apple", "green apple pie", "blue car"])
 * index.search("apple pie", 2) // [{ doc: 1, ... }, { doc: 0, ... }]
 */
export class Bm25Index {
  readonly size: number
  private readonly vocabulary = new Map<string, number>()
  private readonly postingDocs: Array<Int32Array> = []
  private readonly postingWeights: Array<Float32Array> = []
  private readonly scores: Float64Array
  private readonly touched: Int32Array

  constructor(documents: ReadonlyArray<string>, options: Bm25Options = {}) {
    const k1 = options.k1 ?? 1.2
    const b = options.b ?? 0.75
    this.size = documents.length
    const docTerms = documents.map(tokenize)
    const lengths = docTerms.map((terms) => terms.length)
    const avgdl = Math.max(1, lengths.reduce((s, n) => s + n, 0) / Math.max(1, documents.length))
    const postings: Array<Array<number>> = []
    for (let d = 0; d < docTerms.length; d++) {
      const counts = new Map<number, number>()
      for (const term of docTerms[d]!) {
        let id = this.vocabulary.get(term)
        if (id === undefined) {
          id = postings.length
          this.vocabulary.set(term, id)
          postings.push([])
        }
        counts.set(id, (counts.get(id) ?? 0) + 1)
      }
      for (const [id, tf] of counts) postings[id]!.push(d, tf)
    }
    const n = documents.length
    for (const list of postings) {
      const df = list.length / 2
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5))
      const docs = new Int32Array(df)
      const weights = new Float32Array(df)
      for (let i = 0; i < df; i++) {
        const d = list[2 * i]!
        const tf = list[2 * i + 1]!
        docs[i] = d
        weights[i] = (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * lengths[d]!) / avgdl))
      }
      this.postingDocs.push(docs)
      this.postingWeights.push(weights)
    }
    this.scores = new Float64Array(n)
    this.touched = new Int32Array(n)
  }

  /** Number of distinct terms. */
  get vocabularySize(): number {
    return this.vocabulary.size
  }

  /** The `limit` best documents for the query with a positive score, best first. */
  search(query: string, limit: number): Array<Bm25Hit> {
    const terms = tokenize(query)
    const seen = new Set<number>()
    let touchedCount = 0
    const scores = this.scores
    for (const term of terms) {
      const id = this.vocabulary.get(term)
      if (id === undefined || seen.has(id)) continue
      seen.add(id)
      const docs = this.postingDocs[id]!
      const weights = this.postingWeights[id]!
      for (let i = 0; i < docs.length; i++) {
        const d = docs[i]!
        if (scores[d] === 0) this.touched[touchedCount++] = d
        scores[d] = scores[d]! + weights[i]!
      }
    }
    const hits: Array<Bm25Hit> = []
    if (limit > 0) {
      // Keep a sorted buffer of the best `limit` hits (insertion into a short array).
      for (let t = 0; t < touchedCount; t++) {
        const doc = this.touched[t]!
        const score = scores[doc]!
        if (hits.length === limit) {
          const worst = hits[limit - 1]!
          if (score < worst.score || (score === worst.score && doc > worst.doc)) continue
          hits.pop()
        }
        let pos = hits.length
        while (pos > 0) {
          const prev = hits[pos - 1]!
          if (prev.score > score || (prev.score === score && prev.doc < doc)) break
          pos--
        }
        hits.splice(pos, 0, { doc, score })
      }
    }
    for (let t = 0; t < touchedCount; t++) scores[this.touched[t]!] = 0
    return hits
  }
}
