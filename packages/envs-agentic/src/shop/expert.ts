/**
 * The shop expert (search with the instruction's words, page to the first result that fully
 * satisfies the instruction, select its options, buy) and corrupted variants for warm-start data.
 */
import type { Rng } from "@icrl/core"
import type { ScriptedStep } from "../episode.ts"
import { type Product, resultsPerPage, searchCatalog, shopCatalogOf } from "./catalog.ts"
import { satisfiesGoal } from "./reward.ts"
import type { ShopTask } from "./task.ts"

/** The expert's query, the product it buys and where that product ranks in the results. */
export interface ShopExpertChoice {
  readonly query: string
  readonly results: ReadonlyArray<number>
  readonly rank: number
  readonly product: Product
}

/**
 * What the expert searches and buys: the first fully matching result of the instruction's
 * attributes and type; if none ranks in the results, it searches the target's exact title.
 *
 * @example
 * shopExpertChoice(task).product.type === task.productType // true
 */
export const shopExpertChoice = (task: ShopTask): ShopExpertChoice => {
  const catalog = shopCatalogOf(task)
  for (const query of [task.query, catalog.products[task.product]!.title.toLowerCase()]) {
    const results = searchCatalog(catalog, query)
    const rank = results.findIndex((i) => satisfiesGoal(task, catalog.products[i]!))
    if (rank >= 0) return { query, results, rank, product: catalog.products[results[rank]!]! }
  }
  const product = catalog.products[task.product]!
  return { query: product.title.toLowerCase(), results: [task.product], rank: 0, product }
}

const buySteps = (task: ShopTask, choice: ShopExpertChoice, withOptions: boolean): Array<ScriptedStep> => {
  const steps: Array<ScriptedStep> = [{ action: `search[${choice.query}]`, think: "search" }]
  for (let p = 0; p < Math.floor(choice.rank / resultsPerPage); p++) steps.push({ action: "click[next >]", think: "next" })
  steps.push({ action: `click[${choice.product.asin}]`, think: "item" })
  if (withOptions) for (const [, value] of task.options) steps.push({ action: `click[${value}]`, think: "option" })
  steps.push({ action: "click[buy now]", think: "buy" })
  return steps
}

/**
 * The expert plan of a task.
 *
 * @example
 * shopExpertPlan(task).at(-1)?.action // "click[buy now]"
 */
export const shopExpertPlan = (task: ShopTask): Array<ScriptedStep> => buySteps(task, shopExpertChoice(task), true)

export type ShopCorruption = "skip-options" | "wrong-option" | "wrong-item" | "no-buy" | "wrong-search" | "browse"

export const shopCorruptions: ReadonlyArray<ShopCorruption> = ["skip-options", "wrong-option", "wrong-item", "no-buy", "wrong-search", "browse"]

/**
 * A corrupted attempt: the expert plan with one mistake of the given kind.
 *
 * @example
 * corruptedShopPlan(task, "skip-options", new Rng(1)).some((s) => s.think === "option") // false
 */
export const corruptedShopPlan = (task: ShopTask, corruption: ShopCorruption, rng: Rng): Array<ScriptedStep> => {
  const catalog = shopCatalogOf(task)
  const choice = shopExpertChoice(task)
  const expert = buySteps(task, choice, true)
  switch (corruption) {
    case "skip-options":
      return task.options.length > 0 ? buySteps(task, choice, false) : expert.slice(0, -1)
    case "wrong-option": {
      const swaps = task.options.flatMap(([group, value]) => {
        const values = choice.product.options.find((g) => g.name === group)?.values.filter((v) => v !== value) ?? []
        return values.length > 0 ? [[value, rng.pick(values)] as const] : []
      })
      if (swaps.length === 0) return task.options.length > 0 ? buySteps(task, choice, false) : expert.slice(0, -1)
      const [from, to] = rng.pick(swaps)
      return expert.map((s) => (s.action === `click[${from}]` ? { ...s, action: `click[${to}]` } : s))
    }
    case "wrong-item": {
      const wrong = choice.results
        .slice(0, resultsPerPage)
        .filter((i) => !satisfiesGoal(task, catalog.products[i]!))
      if (wrong.length === 0) return expert.slice(0, -1)
      const product = catalog.products[rng.pick(wrong)]!
      const values = task.options.flatMap(([group, value]) =>
        product.options.some((g) => g.name === group && g.values.includes(value)) ? [value] : [],
      )
      return [
        { action: `search[${choice.query}]`, think: "search" },
        { action: `click[${product.asin}]`, think: "item" },
        ...values.map((v) => ({ action: `click[${v}]`, think: "option" })),
        { action: "click[buy now]", think: "buy" },
      ]
    }
    case "no-buy":
      return expert.slice(0, rng.int(expert.length))
    case "wrong-search": {
      const others = [...new Set(catalog.products.map((p) => p.type))].filter((t) => t !== task.productType)
      const query = rng.pick(others)
      const first = searchCatalog(catalog, query)[0]
      if (first === undefined) return expert.slice(0, 1)
      return [
        { action: `search[${query}]`, think: "search" },
        { action: `click[${catalog.products[first]!.asin}]`, think: "item" },
        { action: "click[buy now]", think: "buy" },
      ]
    }
    case "browse":
      return [
        ...expert.slice(0, expert.findIndex((s) => s.think === "item") + 1),
        { action: "click[description]", think: "read" },
        { action: "click[< prev]", think: "item" },
        { action: "click[back to search]", think: "search" },
      ]
  }
}
