/**
 * The WebShop reward: type factor x (matched attributes + matched options + price ok) over
 * (attributes + options + 1).
 */
import type { Product } from "./catalog.ts"

/** What an instruction asks for. */
export interface ShopGoal {
  readonly category: string
  readonly productType: string
  readonly attributes: ReadonlyArray<string>
  /** [group, value] pairs. */
  readonly options: ReadonlyArray<readonly [string, string]>
  readonly priceCeiling: number
}

/** The reward with its parts, for the critic and for tests. */
export interface ShopRewardBreakdown {
  /** 1 for the same product type, 0.5 for the same category, 0.1 otherwise. */
  readonly typeFactor: number
  readonly matchedAttributes: ReadonlyArray<string>
  readonly matchedOptions: ReadonlyArray<readonly [string, string]>
  readonly priceOk: boolean
  readonly reward: number
}

/**
 * Scores a purchase of `product` with the `selected` options (group -> value) against a goal.
 *
 * @example
 * shopReward(goal, product, new Map([["color", "green"]])).reward // in [0, 1]
 */
export const shopReward = (goal: ShopGoal, product: Product, selected: ReadonlyMap<string, string>): ShopRewardBreakdown => {
  const typeFactor = product.type === goal.productType ? 1 : product.category === goal.category ? 0.5 : 0.1
  const matchedAttributes = goal.attributes.filter((a) => product.attributes.includes(a))
  const matchedOptions = goal.options.filter(([group, value]) => selected.get(group) === value)
  const priceOk = product.price <= goal.priceCeiling
  const reward =
    (typeFactor * (matchedAttributes.length + matchedOptions.length + (priceOk ? 1 : 0))) /
    (goal.attributes.length + goal.options.length + 1)
  return { typeFactor, matchedAttributes, matchedOptions, priceOk, reward }
}

/** Whether buying `product` with the goal's own option values would score 1. */
export const satisfiesGoal = (goal: ShopGoal, product: Product): boolean =>
  product.type === goal.productType &&
  product.price <= goal.priceCeiling &&
  goal.attributes.every((a) => product.attributes.includes(a)) &&
  goal.options.every(([group, value]) => product.options.some((g) => g.name === group && g.values.includes(value)))
