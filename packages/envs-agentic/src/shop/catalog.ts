/**
 * The generated product catalog and its BM25 search index, built once per catalog seed and size
 * and cached.
 */
import { mixSeed, Rng } from "@icrl/core"
import { Bm25Index } from "../bm25.ts"
import type { AgenticLevel } from "../level.ts"
import { brandSyllables, shopCategories } from "./vocabulary.ts"

export interface ProductOptionGroup {
  readonly name: string
  readonly values: ReadonlyArray<string>
}

export interface Product {
  readonly index: number
  /** Short lower-case product id shown on result pages and clicked to open the item. */
  readonly asin: string
  readonly title: string
  readonly brand: string
  readonly category: string
  readonly type: string
  readonly attributes: ReadonlyArray<string>
  readonly options: ReadonlyArray<ProductOptionGroup>
  readonly price: number
  readonly rating: number
  readonly reviewCount: number
  readonly description: string
  readonly review: string
}

export interface Catalog {
  readonly seed: number
  readonly products: ReadonlyArray<Product>
  readonly index: Bm25Index
  readonly byAsin: ReadonlyMap<string, number>
  /** Product indices whose products may be the target of a train or a test instruction. */
  readonly splitProducts: Readonly<Record<"train" | "test", ReadonlyArray<number>>>
}

/** Products generated per product type (42 types: 5,250 products). */
export const productsPerType = 125

/** Products per type of the catalog each difficulty level shops in: level 1's is small (840 products). */
export const shopLevelProductsPerType: Readonly<Record<AgenticLevel, number>> = { 1: 20, 2: productsPerType, 3: productsPerType }

/** Results shown per page. */
export const resultsPerPage = 10

/** Search results kept per query (WebShop shows at most 50). */
export const maxResults = 50

const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1)

const brandNames = (rng: Rng, count: number): Array<string> => {
  const out = new Set<string>()
  while (out.size < count) {
    const n = rng.range(2, 3)
    let name = ""
    for (let i = 0; i < n; i++) name += rng.pick(brandSyllables)
    out.add(capital(name))
  }
  return [...out]
}

const asinOf = (seed: number, i: number, taken: Set<string>): string => {
  for (let k = 0; ; k++) {
    const code = mixSeed(seed, i, k) % 60466176
    const asin = `b${code.toString(36).padStart(5, "0")}`
    if (!taken.has(asin)) {
      taken.add(asin)
      return asin
    }
  }
}

const reviewPhrases = ["works great", "good value", "as described", "would buy again", "nice quality", "fits well", "fast delivery"]

/**
 * Builds the catalog of a seed without the cache (use {@link shopCatalog} in normal code).
 *
 * @example
 * buildShopCatalog(0).products.length // 5250
 * buildShopCatalog(0, 20).products.length // 840
 */
export const buildShopCatalog = (seed: number, perType = productsPerType): Catalog => {
  const rng = new Rng(mixSeed(seed, 0xc0ffee))
  const brands = brandNames(rng, 160)
  const drafts: Array<Omit<Product, "index" | "asin">> = []
  for (const category of shopCategories) {
    for (const type of category.types) {
      for (let k = 0; k < perType; k++) {
        const attributes = rng.sample(type.attributes, rng.range(2, 3))
        const options = Object.entries(type.options).map(([name, pool]) => {
          const chosen = new Set(rng.sample(pool, rng.range(2, Math.min(5, pool.length))))
          return { name, values: pool.filter((v) => chosen.has(v)) }
        })
        const [lo, hi] = type.price
        const price = Math.floor(lo + rng.next() * (hi - lo)) + 0.99
        const brand = rng.pick(brands)
        const rating = Math.round((3 + rng.next() * 2) * 10) / 10
        drafts.push({
          title: `${brand} ${attributes.join(" ")} ${type.name}`,
          brand,
          category: category.name,
          type: type.name,
          attributes,
          options,
          price,
          rating,
          reviewCount: rng.range(3, 2000),
          description: `${capital(type.name)} by ${brand}, ${attributes.join(", ")}. Great for ${rng.pick(type.uses)}.`,
          review: `${capital(rng.pick(reviewPhrases))}, ${rng.pick(reviewPhrases)}.`,
        })
      }
    }
  }
  const taken = new Set<string>()
  const products: Array<Product> = rng.shuffle(drafts).map((d, index) => ({ ...d, index, asin: asinOf(seed, index, taken) }))
  const index = new Bm25Index(
    products.map((p) => `${p.title} ${p.type} ${p.category} ${p.attributes.join(" ")} ${p.options.map((o) => o.values.join(" ")).join(" ")}`),
  )
  const byAsin = new Map(products.map((p) => [p.asin, p.index] as const))
  const train: Array<number> = []
  const test: Array<number> = []
  for (const p of products) (mixSeed(p.index, 0x2545f491) % 5 === 0 ? test : train).push(p.index)
  return { seed, products, index, byAsin, splitProducts: { train, test } }
}

const cache = new Map<string, Catalog>()

/**
 * The catalog of a seed and size (built on first use, then cached for the process).
 *
 * @example
 * shopCatalog(0).products.length // 5250
 */
export const shopCatalog = (seed = 0, perType = productsPerType): Catalog => {
  const key = `${seed}/${perType}`
  let catalog = cache.get(key)
  if (catalog === undefined) {
    catalog = buildShopCatalog(seed, perType)
    cache.set(key, catalog)
  }
  return catalog
}

/**
 * The catalog a task shops in: its catalog seed at its level's size.
 *
 * @example
 * shopCatalogOf({ catalogSeed: 0, level: 1 }).products.length // 840
 */
export const shopCatalogOf = (task: { readonly catalogSeed: number; readonly level: AgenticLevel }): Catalog =>
  shopCatalog(task.catalogSeed, shopLevelProductsPerType[task.level])

/**
 * The ranked product indices for a query (at most {@link maxResults}).
 *
 * @example
 * searchCatalog(shopCatalog(0), "slim fit jumpsuit").length // up to 50
 */
export const searchCatalog = (catalog: Catalog, query: string): Array<number> =>
  catalog.index.search(query, maxResults).map((hit) => hit.doc)
