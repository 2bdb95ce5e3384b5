import type { LossAggMode } from "./AlgorithmConfig.ts"
import { groupIndices } from "./grouping.ts"

/**
 * Reduces per-token losses (one array per sequence, valid tokens only) to one number.
 *
 * - `token-mean`: sum of all tokens / number of tokens;
 * - `seq-mean-token-mean`: mean over sequences of each sequence's token mean;
 * - `seq-mean-token-sum`: mean over sequences of each sequence's token sum;
 * - `seq-mean-token-sum-norm`: sum of all tokens / (sequences * scale), scale = `scaleFactor`
 *   or, when it is 0, the longest sequence (Dr. GRPO).
 *
 * Empty sequences are left out of the sequence means; with no tokens at all the result is 0.
 * With `groups` (a label per sequence, e.g. its role) each group is reduced on its own and the
 * results are summed (`per-role-sum`), so a role's weight does not shrink as other roles add tokens.
 *
 * @example
 * aggregateLoss([[1, 1], [4]], "token-mean") // 2
 * aggregateLoss([[1, 1], [4]], "token-mean", 0, ["solver", "critic"]) // 5
 * aggregateLoss([[1, 1], [4]], "seq-mean-token-mean") // 2.5
 */
export const aggregateLoss = (
  losses: ReadonlyArray<ReadonlyArray<number>>,
  mode: LossAggMode,
  scaleFactor = 0,
  groups?: ReadonlyArray<string>,
): number => {
  if (groups !== undefined) {
    return groupIndices(groups).reduce((sum, members) => sum + aggregateLoss(members.map((i) => losses[i]!), mode, scaleFactor), 0)
  }
  const sequences = losses.filter((s) => s.length > 0)
  if (sequences.length === 0) return 0
  const sums = sequences.map((s) => s.reduce((a, b) => a + b, 0))
  const total = sums.reduce((a, b) => a + b, 0)
  switch (mode) {
    case "token-mean":
      return total / sequences.reduce((a, s) => a + s.length, 0)
    case "seq-mean-token-mean":
      return sums.reduce((a, sum, i) => a + sum / sequences[i]!.length, 0) / sequences.length
    case "seq-mean-token-sum":
      return total / sequences.length
    case "seq-mean-token-sum-norm": {
      const scale = scaleFactor > 0 ? scaleFactor : Math.max(...sequences.map((s) => s.length))
      return total / (sequences.length * scale)
    }
  }
}

/**
 * The weight each token gets in {@link aggregateLoss}, so a tensor implementation can form
 * sum_t weight_t * loss_t. Same layout as the input; zero-length sequences give empty arrays.
 * `groups` as in {@link aggregateLoss}.
 *
 * @example
 * aggregationWeights([2, 1], "token-mean") // [[1/3, 1/3], [1/3]]
 * aggregationWeights([2, 1], "token-mean", 0, ["solver", "critic"]) // [[1/2, 1/2], [1]]
 */
export const aggregationWeights = (
  lengths: ReadonlyArray<number>,
  mode: LossAggMode,
  scaleFactor = 0,
  groups?: ReadonlyArray<string>,
): Array<Array<number>> => {
  if (groups !== undefined) {
    const out: Array<Array<number>> = lengths.map(() => [])
    for (const members of groupIndices(groups)) {
      const weights = aggregationWeights(members.map((i) => lengths[i]!), mode, scaleFactor)
      members.forEach((i, k) => (out[i] = weights[k]!))
    }
    return out
  }
  const nonEmpty = lengths.filter((n) => n > 0)
  const seqs = nonEmpty.length
  const tokens = nonEmpty.reduce((a, b) => a + b, 0)
  const scale = scaleFactor > 0 ? scaleFactor : seqs === 0 ? 1 : Math.max(...nonEmpty)
  return lengths.map((n) => {
    const w =
      mode === "token-mean"
        ? 1 / tokens
        : mode === "seq-mean-token-mean"
          ? 1 / (seqs * n)
          : mode === "seq-mean-token-sum"
            ? 1 / seqs
            : 1 / (seqs * scale)
    return new Array<number>(n).fill(w)
  })
}
