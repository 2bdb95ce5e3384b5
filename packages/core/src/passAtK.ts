/**
 * The unbiased pass@k estimator (Chen et al., 2021): the probability that at least one of k
 * samples drawn without replacement from n samples, c of them correct, is correct:
 * 1 - C(n - c, k) / C(n, k), computed as a product so it never overflows. k is clamped to [1, n].
 *
 * @example
 * passAtK(10, 3, 1) // 0.3
 */
export const passAtK = (n: number, c: number, k: number): number => {
  if (n <= 0) return 0
  const correct = Math.max(0, Math.min(n, Math.floor(c)))
  const kk = Math.max(1, Math.min(n, Math.floor(k)))
  if (n - correct < kk) return 1
  let allWrong = 1
  for (let i = n - correct + 1; i <= n; i++) allWrong *= 1 - kk / i
  return 1 - allWrong
}
