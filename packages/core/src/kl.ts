import type { KlEstimator } from "./AlgorithmConfig.ts"

const MAX_LOG = 20
/** k3 is clamped to [-K3_CLAMP, K3_CLAMP] as in verl's low-variance KL. */
export const K3_CLAMP = 10

/**
 * Per-token estimators of KL(pi || pi_ref) from samples of pi (Schulman's k1, k2, k3),
 * with d = refLogp - logp: k1 = -d, k2 = d^2 / 2, k3 = exp(d) - 1 - d (clamped to [-10, 10]).
 *
 * @example
 * klEstimate(-1, -1, "k3") // 0
 */
export const klEstimate = (logp: number, refLogp: number, kind: KlEstimator): number => {
  const d = Math.max(-MAX_LOG, Math.min(MAX_LOG, refLogp - logp))
  switch (kind) {
    case "k1":
      return -d
    case "k2":
      return 0.5 * d * d
    case "k3":
      return Math.min(K3_CLAMP, Math.max(-K3_CLAMP, Math.expm1(d) - d))
  }
}
