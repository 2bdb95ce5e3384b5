/**
 * Shop tasks: instructions sampled from a target product (attributes, options, a price ceiling),
 * with train and test targets drawn from disjoint product sets. The difficulty level sets the
 * catalog's size, how much an instruction asks for, and where the expert's search ranks a
 * product that fully satisfies it.
 */
import { ConfigError, mixSeed, Rng, type Split, type Task, type TaskOptions } from "@icrl/core"
import { type AgenticLevel, agenticLevel, agenticLevels } from "../level.ts"
import { type Catalog, resultsPerPage, searchCatalog, shopCatalogOf } from "./catalog.ts"
import { satisfiesGoal, type ShopGoal } from "./reward.ts"

export interface ShopTask extends Task, ShopGoal {
  readonly catalogSeed: number
  readonly level: AgenticLevel
  /** Index of the product the instruction was sampled from. */
  readonly product: number
  /** The search query an expert derives from the instruction. */
  readonly query: string
}

const article = (noun: string): string =>
  /s$/.test(noun) && !/ss$/.test(noun) ? "some" : /^[aeiou]/.test(noun) ? "an" : "a"

/**
 * What each level asks of an instruction: how many attributes, the chance of each option group
 * (visited in the catalog's order, or in a random order with `shuffleOptionGroups`), the most
 * options, the best rank (0-based) the expert's search must give a product that satisfies it
 * (Infinity: no requirement), and whether the instruction must hold the expert's query word for
 * word (`queryInText`: a small model copies a span long before it learns to reorder one).
 *
 * Level 1: one attribute, exactly one option (every product has an option group; the group is
 * drawn at random), the query in the instruction, and the first result fits (one search finds
 * the product). Naming an option in every task keeps the item page unambiguous: when a task may
 * name none, buying at once and clicking any listed option first both succeed, sampled episodes
 * cannot tell them apart, and RL taught the model to choose an option on every item page, which
 * greedy decoding then invented out of the task's words. Level 2: the product is on the first
 * page; level 3: as WebShop, anywhere.
 */
export const shopLevels: Readonly<
  Record<
    AgenticLevel,
    {
      readonly attributes: readonly [number, number]
      readonly optionChance: number
      readonly shuffleOptionGroups: boolean
      readonly maxOptions: number
      readonly rank: number
      readonly queryInText: boolean
    }
  >
> = {
  1: { attributes: [1, 1], optionChance: 1, shuffleOptionGroups: true, maxOptions: 1, rank: 0, queryInText: true },
  2: { attributes: [1, 2], optionChance: 0.75, shuffleOptionGroups: false, maxOptions: 3, rank: resultsPerPage - 1, queryInText: false },
  3: { attributes: [1, 2], optionChance: 0.75, shuffleOptionGroups: false, maxOptions: 3, rank: Number.POSITIVE_INFINITY, queryInText: false },
}

/** The rank of the first result of a query that satisfies a goal, or -1. */
const firstFit = (catalog: Catalog, goal: ShopGoal, query: string): number =>
  searchCatalog(catalog, query).findIndex((i) => satisfiesGoal(goal, catalog.products[i]!))

/**
 * The task at position `index` of a split's sequence for (level, catalogSeed, seed). Below level
 * 3, instructions are drawn until the expert's search ranks a fitting product high enough.
 *
 * @example
 * shopTaskAt("train", 3, 0, 0, 0).text // "i need a ... and price lower than 40.00 dollars"
 */
export const shopTaskAt = (split: Split, level: AgenticLevel, catalogSeed: number, seed: number, index: number): ShopTask => {
  const catalog = shopCatalogOf({ catalogSeed, level })
  const spec = shopLevels[level]
  const rng = new Rng(mixSeed(seed, index, split === "train" ? 0x7a11 : 0x7e57, catalogSeed, ...(level === 3 ? [] : [level])))
  const pool = catalog.splitProducts[split]
  for (let tries = 0; ; tries++) {
    const product = catalog.products[rng.pick(pool)]!
    const picked = new Set(rng.sample(product.attributes, rng.range(spec.attributes[0], spec.attributes[1])))
    const chosenAttributes = product.attributes.filter((a) => picked.has(a))
    const options: Array<readonly [string, string]> = []
    const groups = spec.shuffleOptionGroups ? rng.shuffle(product.options) : product.options
    for (const group of groups) {
      if (rng.chance(spec.optionChance) && options.length < spec.maxOptions) options.push([group.name, rng.pick(group.values)])
    }
    const step = product.price < 20 ? 5 : 10
    const priceCeiling = Math.ceil((product.price * (1.1 + 0.4 * rng.next())) / step) * step
    const type = product.type
    const optionText = options.length === 0 ? "" : ` with ${options.map(([g, v]) => `${g}: ${v}`).join(" and ")}`
    const attrText = chosenAttributes.join(" and ")
    const price = `price lower than ${priceCeiling}.00 dollars`
    // Phrasing 1 ("a <type> that is <attributes>") reorders the query, so a level that needs the
    // query in the text writes phrasing 0 instead; the draw is the same at every level, so
    // level 3's tasks are unchanged.
    const drawn = rng.int(3)
    const variant = spec.queryInText && drawn === 1 ? 0 : drawn
    const text =
      variant === 0
        ? `i need ${article(type)} ${attrText} ${type}${optionText}, and ${price}`
        : variant === 1
          ? `i am looking for ${article(type)} ${type} that is ${attrText}${optionText}, and ${price}`
          : `find me ${article(type)} ${chosenAttributes.join(" ")} ${type}${optionText}, with ${price}`
    const task: ShopTask = {
      id: `shop/${split}/${level}/${catalogSeed}/${seed}/${index}`,
      split,
      text,
      catalogSeed,
      level,
      product: product.index,
      category: product.category,
      productType: type,
      attributes: chosenAttributes,
      options,
      priceCeiling,
      query: `${chosenAttributes.join(" ")} ${type}`,
    }
    if (spec.rank === Number.POSITIVE_INFINITY || tries >= 1000) return task
    const rank = firstFit(catalog, task, task.query)
    if (rank >= 0 && rank <= spec.rank) return task
  }
}

/**
 * Rebuilds a task from its id (`shop/<split>/<level>/<catalogSeed>/<seed>/<index>`); undefined when malformed.
 *
 * @example
 * shopTaskFromId("shop/test/1/0/3/7")?.level // 1
 */
export const shopTaskFromId = (id: string): ShopTask | undefined => {
  const parts = id.split("/")
  if (parts.length !== 6 || parts[0] !== "shop") return undefined
  const split = parts[1]
  if (split !== "train" && split !== "test") return undefined
  const level = agenticLevels.find((l) => String(l) === parts[2])
  if (level === undefined) return undefined
  const numbers = parts.slice(3).map((p) => (/^-?\d{1,10}$/.test(p) ? Number(p) : Number.NaN))
  if (numbers.some((n) => !Number.isSafeInteger(n))) return undefined
  const [catalogSeed, seed, index] = numbers as [number, number, number]
  if (index < 0 || catalogSeed < 0 || catalogSeed > 0xffff) return undefined
  return shopTaskAt(split, level, catalogSeed, seed, index)
}

/** The task options shop understands. */
export const shopOptionKeys: ReadonlyArray<string> = ["difficulty", "catalog_seed"]

/**
 * Reads `difficulty` (1, 2 or 3; default 1) and `catalog_seed` (a non-negative integer, default
 * 0) from the task options.
 *
 * @example
 * shopKnobs({ catalog_seed: "2" }) // { level: 1, catalogSeed: 2 }
 */
export const shopKnobs = (options: Readonly<Record<string, string>> | undefined): { readonly level: AgenticLevel; readonly catalogSeed: number } => {
  for (const key of Object.keys(options ?? {})) {
    if (!shopOptionKeys.includes(key)) throw new ConfigError({ field: key, detail: `unknown shop option; known: ${shopOptionKeys.join(", ")}` })
  }
  const level = agenticLevel("shop", options)
  const text = options?.["catalog_seed"] ?? "0"
  if (!/^\d{1,5}$/.test(text) || Number(text) > 0xffff) {
    throw new ConfigError({ field: "catalog_seed", detail: `"${text}" is not an integer in [0, 65535]` })
  }
  return { level, catalogSeed: Number(text) }
}

/**
 * The tasks of a split.
 *
 * @example
 * shopTasks("test", { seed: 0, count: 10 }).length // 10
 */
export const shopTasks = (split: Split, options: TaskOptions): Array<ShopTask> => {
  const { level, catalogSeed } = shopKnobs(options.options)
  const offset = options.offset ?? 0
  return Array.from({ length: options.count }, (_, i) => shopTaskAt(split, level, catalogSeed, options.seed, offset + i))
}
