import type { CalibrationMode } from "./AlgorithmConfig.ts"

export interface CalibrationOptions {
  readonly mode: CalibrationMode
  /** C: weights are truncated to at most C. */
  readonly cap: number
  /** gamma of the shaping function p / (p + gamma). */
  readonly gamma: number
}

/** Bound on |log ratio| before exponentiation, so no weight is Infinity or NaN. */
const MAX_LOG_RATIO = 40

const clampLog = (x: number): number => Math.max(-MAX_LOG_RATIO, Math.min(MAX_LOG_RATIO, x))

/**
 * Per-token weights for a transferred refinement (DESIGN.md §4 step 6).
 * `freeLogprobs[t]` = log pi_theta(y'_t | solver(x), y'_<t) (critique-free),
 * `behaviourLogprobs[t]` = log pi_old(y'_t | refine(x, y, c), y'_<t) (how it was sampled).
 *
 * - `token-tis`: w_t = min(exp(free_t - behaviour_t), C)
 * - `seq-geo`: one weight for the sequence, min(exp(mean_t(free_t - behaviour_t)), C)
 * - `shaping`: w_t = min(p_t / (p_t + gamma), C) with p_t = exp(free_t)
 * - `none`: w_t = 1 (the ablation without re-weighting; the cap does not apply)
 *
 * @example
 * calibrationWeights([-1, -2], [-1, -1], { mode: "token-tis", cap: 1, gamma: 0.1 }) // [1, 0.3679]
 */
export const calibrationWeights = (
  freeLogprobs: ReadonlyArray<number>,
  behaviourLogprobs: ReadonlyArray<number>,
  options: CalibrationOptions,
): Array<number> => {
  if (freeLogprobs.length !== behaviourLogprobs.length) {
    throw new RangeError(`calibrationWeights: ${freeLogprobs.length} free log-probs, ${behaviourLogprobs.length} behaviour log-probs`)
  }
  const { cap } = options
  switch (options.mode) {
    case "token-tis":
      return freeLogprobs.map((f, t) => Math.min(Math.exp(clampLog(f - behaviourLogprobs[t]!)), cap))
    case "seq-geo": {
      if (freeLogprobs.length === 0) return []
      let sum = 0
      freeLogprobs.forEach((f, t) => (sum += clampLog(f - behaviourLogprobs[t]!)))
      const w = Math.min(Math.exp(clampLog(sum / freeLogprobs.length)), cap)
      return freeLogprobs.map(() => w)
    }
    case "shaping":
      return freeLogprobs.map((f) => {
        const p = Math.exp(Math.min(0, clampLog(f)))
        return Math.min(p / (p + options.gamma), cap)
      })
    case "none":
      return freeLogprobs.map(() => 1)
  }
}
