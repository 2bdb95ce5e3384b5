/**
 * The shop Environment: WebShop's pages (search, results, item, item details) and actions
 * (`search[query]`, `click[button]`), with the WebShop reward on Buy Now.
 */
import { TaskNotFound, type Environment, type ResetOptions, type ResetResult, type StepResult } from "@icrl/core"
import { Effect } from "effect"
import { EpisodeClock, type EpisodeRules } from "../episodeRules.ts"
import { episodeOverStep, normalizeAction, penalizedReward } from "../projection.ts"
import { type Catalog, type Product, resultsPerPage, searchCatalog, shopCatalogOf } from "./catalog.ts"
import { type ShopRewardBreakdown, shopReward } from "./reward.ts"
import { type ShopTask, shopTaskFromId } from "./task.ts"

/** The admissible action on the search page (any query in the brackets is accepted). */
export const SEARCH_ACTION = "search[<query>]"


type Page = "search" | "results" | "item" | "description" | "features" | "reviews" | "done"

/** Settings an episode runs under: the episode rules and the invalid-action penalty. */
export interface ShopSettings extends EpisodeRules {
  readonly invalidActionPenalty: number
}

const maxRawAction = 1000

/** The purchase that ended an episode. */
export interface Purchase {
  readonly product: Product
  readonly selected: ReadonlyMap<string, string>
  readonly breakdown: ShopRewardBreakdown
}

/**
 * A shop episode. `step` never throws; anything not on the current page is an invalid step
 * whose observation repeats the page.
 *
 * @example
 * const env = new ShopEnvironment(task, { maxSteps: 30, repeatLimit: 3, invalidActionPenalty: 0.1 })
 * env.reset({ seed: 0 })
 * env.step("search[slim fit jumpsuit]").observation // "Results for ..."
 */
export class ShopEnvironment implements Environment {
  private task: ShopTask
  private catalog: Catalog
  private page: Page = "search"
  private query = ""
  private results: Array<number> = []
  private pageNo = 0
  private item = -1
  private selected = new Map<string, string>()
  private readonly clock: EpisodeClock
  private terminated = false
  private truncated = false
  private won = false
  private bought: Purchase | undefined
  private pageText = ""
  private clickables: Array<string> = []
  private admissibleCache: Array<string> = []

  constructor(
    task: ShopTask,
    private readonly settings: ShopSettings,
  ) {
    this.task = task
    this.catalog = shopCatalogOf(task)
    this.clock = new EpisodeClock(settings)
    this.render()
  }

  reset(options: ResetOptions): Effect.Effect<ResetResult, TaskNotFound> {
    return Effect.suspend(() => {
      if (options.taskId !== undefined && options.taskId !== this.task.id) {
        const next = shopTaskFromId(options.taskId)
        if (next === undefined) return Effect.fail(new TaskNotFound({ env: "shop", taskId: options.taskId }))
        this.task = next
        this.catalog = shopCatalogOf(next)
      }
      return Effect.succeed(this.restart())
    })
  }

  /** Back to the initial state of the current task, synchronously (what `reset` runs). */
  restart(): ResetResult {
    this.page = "search"
    this.query = ""
    this.results = []
    this.pageNo = 0
    this.item = -1
    this.selected = new Map()
    this.clock.reset()
    this.terminated = false
    this.truncated = false
    this.won = false
    this.bought = undefined
    this.render()
    return { observation: this.pageText, info: { won: false, actionValid: true, admissibleActions: this.admissibleCache.slice(), score: 0, steps: 0 } }
  }

  /** The purchase, once Buy Now was clicked. */
  get purchase(): Purchase | undefined {
    return this.bought
  }

  /** The page currently shown. */
  get currentPage(): Page {
    return this.page
  }

  /** The query of the last search. */
  get lastQuery(): string {
    return this.query
  }

  private product(): Product {
    return this.catalog.products[this.item]!
  }

  private pageCount(): number {
    return Math.max(1, Math.ceil(this.results.length / resultsPerPage))
  }

  private render(): void {
    const clicks: Array<string> = []
    let text: string
    switch (this.page) {
      case "search":
        text = "Search page. Use search[query] to find products."
        break
      case "results": {
        clicks.push("back to search")
        const pages = this.pageCount()
        if (this.results.length === 0) {
          text = `No results for "${this.query}". [Back to Search]`
          break
        }
        if (this.pageNo > 0) clicks.push("< prev")
        if (this.pageNo < pages - 1) clicks.push("next >")
        text = `Results for "${this.query}", page ${this.pageNo + 1} of ${pages} (${this.results.length} total). [Back to Search]${this.pageNo > 0 ? " [< Prev]" : ""}${this.pageNo < pages - 1 ? " [Next >]" : ""}`
        const end = Math.min(this.results.length, (this.pageNo + 1) * resultsPerPage)
        for (let i = this.pageNo * resultsPerPage; i < end; i++) {
          const p = this.catalog.products[this.results[i]!]!
          clicks.push(p.asin)
          text += `\n[${p.asin}] ${p.title} $${p.price.toFixed(2)}`
        }
        break
      }
      case "item": {
        const p = this.product()
        clicks.push("back to search", "< prev")
        text = `[Back to Search] [< Prev]\n${p.title}\nPrice: $${p.price.toFixed(2)} | Rating: ${p.rating.toFixed(1)}`
        for (const group of p.options) {
          text += `\n${group.name}:`
          for (const v of group.values) {
            text += ` [${v}]`
            clicks.push(v)
          }
        }
        if (this.selected.size > 0) text += `\nSelected: ${[...this.selected.values()].join(", ")}`
        text += "\n[Description] [Features] [Reviews] [Buy Now]"
        clicks.push("description", "features", "reviews", "buy now")
        break
      }
      case "description":
      case "features":
      case "reviews": {
        const p = this.product()
        clicks.push("back to search", "< prev")
        const body =
          this.page === "description"
            ? `Description: ${p.description}`
            : this.page === "features"
              ? `Features: ${p.attributes.join("; ")}`
              : `Reviews: rated ${p.rating.toFixed(1)} of 5 by ${p.reviewCount} customers. "${p.review}"`
        text = `[Back to Search] [< Prev]\n${body}`
        break
      }
      case "done": {
        const p = this.product()
        const chosen = [...this.selected.values()]
        text = `You bought ${p.title}${chosen.length > 0 ? ` (${chosen.join(", ")})` : ""} for $${p.price.toFixed(2)}.`
        break
      }
    }
    this.pageText = text
    this.clickables = clicks
    this.admissibleCache = this.page === "search" ? [SEARCH_ACTION] : this.page === "done" ? [] : clicks.map((c) => `click[${c}]`)
  }

  private act(action: string): boolean {
    if (action.startsWith("search[") && action.endsWith("]")) {
      if (this.page !== "search") return false
      const query = action.slice(7, -1).trim()
      if (query === "") return false
      this.query = query
      this.results = searchCatalog(this.catalog, query)
      this.pageNo = 0
      this.page = "results"
      return true
    }
    if (!(action.startsWith("click[") && action.endsWith("]"))) return false
    const target = action.slice(6, -1).trim()
    if (!this.clickables.includes(target)) return false
    if (target === "back to search") {
      this.page = "search"
      this.query = ""
      this.results = []
      this.selected = new Map()
      return true
    }
    switch (this.page) {
      case "results":
        if (target === "< prev") this.pageNo--
        else if (target === "next >") this.pageNo++
        else {
          this.item = this.catalog.byAsin.get(target)!
          this.selected = new Map()
          this.page = "item"
        }
        return true
      case "item": {
        if (target === "< prev") this.page = "results"
        else if (target === "description" || target === "features" || target === "reviews") this.page = target
        else if (target === "buy now") this.page = "done"
        else {
          const group = this.product().options.find((g) => g.values.includes(target))!
          this.selected.set(group.name, target)
        }
        return true
      }
      default:
        // Detail pages: "< prev" goes back to the item.
        this.page = "item"
        return true
    }
  }

  step(action: string): Effect.Effect<StepResult> {
    return Effect.sync(() => this.advance(action))
  }

  /** One step, synchronously (what `step` runs): the fast path for scripted replays. */
  advance(action: string): StepResult {
    if (this.terminated || this.truncated) return episodeOverStep(this.terminated, this.truncated, { won: this.won, score: this.bought?.breakdown.reward ?? 0, steps: this.clock.steps })
    const text = typeof action === "string" && action.length <= maxRawAction ? normalizeAction(action) : ""
    const stop = this.clock.tick(text)
    const valid = text !== "" && this.act(text)
    let observation: string
    if (valid) {
      this.render()
      observation = this.pageText
    } else {
      observation = `Invalid action.\n${this.pageText}`
    }
    if (this.page === "done" && this.bought === undefined) {
      const breakdown = shopReward(this.task, this.product(), this.selected)
      this.bought = { product: this.product(), selected: new Map(this.selected), breakdown }
      this.won = breakdown.reward >= 1
      this.terminated = true
    }
    this.truncated = !this.terminated && stop
    return {
      observation,
      reward: penalizedReward(this.bought?.breakdown.reward ?? 0, valid, this.settings.invalidActionPenalty),
      terminated: this.terminated,
      truncated: this.truncated,
      info: {
        won: this.won,
        actionValid: valid,
        admissibleActions: this.terminated || this.truncated ? [] : this.admissibleCache.slice(),
        score: this.bought?.breakdown.reward ?? 0,
        steps: this.clock.steps,
      },
    }
  }
}
