/**
 * Answer checking for question answering, as in SQuAD and HotpotQA: answers are compared after
 * normalization (punctuation and symbols removed, case folded (lower, upper, then lower again,
 * so that forms like "ß", "SS" and "ẞ" meet), the articles "a", "an", "the"
 * dropped, whitespace collapsed); the reward is exact match and the graded score token F1.
 */

const punctuation = /[\p{P}\p{S}]/gu
const articles = new Set(["a", "an", "the"])

/**
 * The normalized tokens of an answer.
 *
 * @example
 * answerTokens("The  Velmora-Press!") // ["velmorapress"]
 */
export const answerTokens = (text: string): Array<string> =>
  text
    // Punctuation goes before case folding: a symbol between two letters changes how a Greek
    // sigma lowers ("σ" or final "ς"), so folding first was not idempotent.
    .replace(punctuation, "")
    .toLowerCase()
    .toUpperCase()
    .toLowerCase()
    .split(/\s+/)
    .filter((t) => t.length > 0 && !articles.has(t))

/**
 * Normalizes an answer for comparison: case folded, punctuation removed, articles dropped,
 * whitespace collapsed.
 *
 * @example
 * normalizeAnswer("  The City of Velmora. ") // "city of velmora"
 */
export const normalizeAnswer = (text: string): string => answerTokens(text).join(" ")

/**
 * Whether the prediction equals one of the gold answers after normalization.
 *
 * @example
 * exactMatch("the velmora", ["Velmora"]) // true
 */
export const exactMatch = (prediction: string, golds: ReadonlyArray<string>): boolean => {
  const p = normalizeAnswer(prediction)
  return golds.some((g) => normalizeAnswer(g) === p)
}

const f1Of = (pred: ReadonlyArray<string>, gold: ReadonlyArray<string>): number => {
  if (pred.length === 0 || gold.length === 0) return pred.length === gold.length ? 1 : 0
  const counts = new Map<string, number>()
  for (const t of gold) counts.set(t, (counts.get(t) ?? 0) + 1)
  let common = 0
  for (const t of pred) {
    const n = counts.get(t) ?? 0
    if (n > 0) {
      common++
      counts.set(t, n - 1)
    }
  }
  if (common === 0) return 0
  const precision = common / pred.length
  const recall = common / gold.length
  return (2 * precision * recall) / (precision + recall)
}

/**
 * Token F1 between the prediction and the best-matching gold answer, in [0, 1].
 *
 * @example
 * tokenF1("Northwind Pictures Ltd", ["Northwind Pictures"]) // 0.8
 */
export const tokenF1 = (prediction: string, golds: ReadonlyArray<string>): number => {
  const p = answerTokens(prediction)
  let best = 0
  for (const g of golds) best = Math.max(best, f1Of(p, answerTokens(g)))
  return best
}
