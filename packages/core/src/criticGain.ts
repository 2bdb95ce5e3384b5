import type { TransferMode } from "./AlgorithmConfig.ts"

/**
 * The critic's reward: the solver's gain from the critique, g = r' - r - lengthCost * tokens.
 *
 * @example
 * criticGains([0, 1], [1, 1]) // [1, 0]
 */
export const criticGains = (
  before: ReadonlyArray<number>,
  after: ReadonlyArray<number>,
  options: { readonly lengthCost?: number; readonly critiqueTokens?: ReadonlyArray<number> } = {},
): Array<number> => {
  if (before.length !== after.length) throw new RangeError(`criticGains: ${before.length} rewards before, ${after.length} after`)
  const cost = options.lengthCost ?? 0
  return before.map((r, i) => after[i]! - r - (cost === 0 ? 0 : cost * (options.critiqueTokens?.[i] ?? 0)))
}

/**
 * Whether a refinement is transferred to the critique-free solver:
 * `improved` when r' > r, `success` when the refinement won, `all` always.
 *
 * @example
 * shouldTransfer("improved", { before: 0, after: 1, won: true }) // true
 */
export const shouldTransfer = (
  mode: TransferMode,
  outcome: { readonly before: number; readonly after: number; readonly won: boolean },
): boolean => {
  switch (mode) {
    case "improved":
      return outcome.after > outcome.before
    case "success":
      return outcome.won
    case "all":
      return true
  }
}
