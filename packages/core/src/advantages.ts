import type { AdvantageEstimator } from "./AlgorithmConfig.ts"

export interface AdvantageOptions {
  readonly estimator: AdvantageEstimator
  /** eps in (r - mean) / (std + eps); only the `grpo` estimator uses it. */
  readonly epsilon: number
}

const allEqual = (values: ReadonlyArray<number>): boolean => values.every((v) => v === values[0])

/** Arithmetic mean; 0 for an empty array. */
export const mean = (values: ReadonlyArray<number>): number => {
  if (values.length === 0) return 0
  let sum = 0
  for (const v of values) sum += v
  return sum / values.length
}

/** Sample standard deviation (n - 1 in the denominator); 0 for fewer than two values. */
export const sampleStd = (values: ReadonlyArray<number>): number => {
  if (values.length < 2) return 0
  const m = mean(values)
  let ss = 0
  for (const v of values) ss += (v - m) * (v - m)
  return Math.sqrt(ss / (values.length - 1))
}

/**
 * Advantages of one group of rewards.
 *
 * - `grpo`: (r - mean) / (std + eps), std the sample std (as torch.std);
 * - `mean-only`: r - mean (Dr. GRPO);
 * - `rloo`: r_i - mean of the others = n/(n-1) (r_i - mean).
 *
 * A degenerate group (all rewards equal, or a single reward) gives exactly zero advantages.
 *
 * @example
 * groupAdvantages([1, 0, 0, 1], { estimator: "mean-only", epsilon: 1e-6 }) // [0.5, -0.5, -0.5, 0.5]
 */
export const groupAdvantages = (rewards: ReadonlyArray<number>, options: AdvantageOptions): Array<number> => {
  const n = rewards.length
  if (n < 2 || allEqual(rewards)) return rewards.map(() => 0)
  const m = mean(rewards)
  switch (options.estimator) {
    case "grpo": {
      const s = sampleStd(rewards)
      return rewards.map((r) => (r - m) / (s + options.epsilon))
    }
    case "mean-only":
      return rewards.map((r) => r - m)
    case "rloo":
      return rewards.map((r) => ((r - m) * n) / (n - 1))
  }
}
