import { Effect } from "effect"
import { Rng } from "@icrl/core"
import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import {
  buildShopCatalog,
  corruptedShopPlan,
  makeShopPackage,
  type Product,
  runScript,
  satisfiesGoal,
  searchCatalog,
  shop,
  shopCatalog,
  shopCatalogOf,
  shopCorruptions,
  shopCritique,
  ShopEnvironment,
  shopExpertChoice,
  shopExpertPlan,
  type ShopGoal,
  shopReward,
  type ShopTask,
  shopTaskFromId,
  shopTasks,
} from "../src/index.ts"

const settings = { maxSteps: 15, repeatLimit: 0, invalidActionPenalty: 0.1 }
const level3 = { difficulty: "3" }
const catalog = shopCatalog(0)

const product = (over: Partial<Product> = {}): Product => ({
  index: 0,
  asin: "b00001",
  title: "Velora slim fit machine wash short sleeve jumpsuit",
  brand: "Velora",
  category: "fashion",
  type: "jumpsuit",
  attributes: ["slim fit", "machine wash", "short sleeve"],
  options: [
    { name: "color", values: ["green", "blue"] },
    { name: "size", values: ["small", "large"] },
  ],
  price: 23.99,
  rating: 4.1,
  reviewCount: 10,
  description: "",
  review: "",
  ...over,
})
const goal: ShopGoal = {
  category: "fashion",
  productType: "jumpsuit",
  attributes: ["slim fit", "high waist"],
  options: [
    ["color", "green"],
    ["size", "large"],
  ],
  priceCeiling: 30,
}

describe("shop reward", () => {
  test("matches hand-computed values on fixtures", () => {
    const both = new Map([
      ["color", "green"],
      ["size", "large"],
    ])
    // 1 of 2 attributes, 2 of 2 options, price ok: (1 + 2 + 1) / 5.
    expect(shopReward(goal, product(), both).reward).toBeCloseTo(0.8, 12)
    // Wrong colour, no size: (1 + 0 + 1) / 5.
    expect(shopReward(goal, product(), new Map([["color", "blue"]])).reward).toBeCloseTo(0.4, 12)
    // Over the price ceiling: (1 + 2 + 0) / 5.
    expect(shopReward(goal, product({ price: 35.99 }), both).reward).toBeCloseTo(0.6, 12)
    // Same category, other type: 0.5 x 4 / 5.
    expect(shopReward(goal, product({ type: "dress" }), both).reward).toBeCloseTo(0.4, 12)
    // Other category: 0.1 x 4 / 5.
    expect(shopReward(goal, product({ type: "coffee", category: "grocery" }), both).reward).toBeCloseTo(0.08, 12)
    // Everything matched: exactly 1.
    const exact = { ...goal, attributes: ["slim fit", "short sleeve"] }
    expect(shopReward(exact, product(), both).reward).toBe(1)
    expect(shopReward({ ...exact, options: [] }, product(), new Map()).reward).toBe(1)
    // Nothing but the price.
    expect(shopReward(goal, product({ attributes: [] }), new Map()).reward).toBeCloseTo(0.2, 12)
    expect(satisfiesGoal(exact, product())).toBe(true)
    expect(satisfiesGoal(goal, product())).toBe(false)
  })

  test("law: the reward lies in [0, 1] and is 1 only when everything matches", () => {
    const products = catalog.products
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: products.length - 1 }),
        fc.integer({ min: 0, max: products.length - 1 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (target, bought, seed) => {
          const rng = new Rng(seed)
          const t = products[target]!
          const g: ShopGoal = {
            category: t.category,
            productType: t.type,
            attributes: rng.sample(t.attributes, rng.range(1, 2)),
            options: t.options.map((o) => [o.name, rng.pick(o.values)] as const),
            priceCeiling: Math.ceil(t.price) + rng.int(20) - 10,
          }
          const p = products[bought]!
          const selected = new Map(p.options.filter(() => rng.chance(0.5)).map((o) => [o.name, rng.pick(o.values)] as const))
          const r = shopReward(g, p, selected)
          expect(r.reward).toBeGreaterThanOrEqual(0)
          expect(r.reward).toBeLessThanOrEqual(1)
          if (r.reward === 1) {
            expect(p.type).toBe(g.productType)
            expect(r.priceOk).toBe(true)
          }
        },
      ),
      { numRuns: 500 },
    )
  })
})

describe("shop catalog and tasks", () => {
  test("at least 5,000 products with unique ids, deterministic per seed, cached", () => {
    expect(catalog.products.length).toBeGreaterThanOrEqual(5000)
    expect(new Set(catalog.products.map((p) => p.asin)).size).toBe(catalog.products.length)
    expect(shopCatalog(0)).toBe(catalog)
    const again = buildShopCatalog(0)
    expect(again.products.map((p) => `${p.asin} ${p.title} ${p.price}`)).toEqual(catalog.products.map((p) => `${p.asin} ${p.title} ${p.price}`))
    expect(new Set(catalog.products.map((p) => p.type)).size).toBeGreaterThanOrEqual(40)
    for (const p of catalog.products.slice(0, 200)) {
      expect(p.options.every((o) => o.values.length >= 2)).toBe(true)
      expect(p.title).toContain(p.type)
    }
  })

  test("search ranks products that contain the query's words", () => {
    const hits = searchCatalog(catalog, "slim fit jumpsuit")
    expect(hits.length).toBe(50)
    for (const i of hits.slice(0, 10)) expect(catalog.products[i]!.title).toContain("jumpsuit")
    expect(searchCatalog(catalog, "zzzz qqqq")).toEqual([])
  })

  test("instructions name attributes, options and a price ceiling above the target's price", () => {
    for (const task of [...shopTasks("train", { seed: 3, count: 300, options: level3 }), ...shopTasks("train", { seed: 3, count: 100 })]) {
      const target = shopCatalogOf(task).products[task.product]!
      expect(task.text).toMatch(/price lower than \d+\.00 dollars$/)
      expect(task.text).toContain(task.productType)
      for (const a of task.attributes) expect(task.text).toContain(a)
      for (const [group, value] of task.options) expect(task.text).toContain(`${group}: ${value}`)
      expect(target.price).toBeLessThanOrEqual(task.priceCeiling)
      expect(satisfiesGoal(task, target)).toBe(true)
    }
  })

  test("difficulty levels: 1 shops a small catalog where the first result of the expert's search fits, 2 has it on the first page", () => {
    const small = shopCatalog(0, 20)
    expect(small.products.length).toBe(840)
    for (const task of shopTasks("test", { seed: 5, count: 200 })) {
      expect(task.level).toBe(1)
      expect(task.attributes.length).toBe(1)
      // Exactly one option, so the item page always asks for one (see shopLevels).
      expect(task.options.length).toBe(1)
      expect(shopCatalogOf(task)).toBe(small)
      const choice = shopExpertChoice(task)
      expect([choice.query, choice.rank]).toEqual([task.query, 0])
      // The query is written in the instruction, so the search is a copy.
      expect(task.text).toContain(task.query)
      expect(shopExpertPlan(task).length).toBe(3 + task.options.length)
    }
    // The named group is drawn, not always the catalog's first: product types with two groups
    // have tasks naming each of them.
    const named = new Map<string, Set<string>>()
    for (const t of shopTasks("test", { seed: 5, count: 200 })) named.set(t.productType, (named.get(t.productType) ?? new Set()).add(t.options[0]![0]))
    expect([...named.values()].filter((groups) => groups.size === 2).length).toBeGreaterThan(3)
    for (const task of shopTasks("test", { seed: 5, count: 200, options: { difficulty: "2" } })) {
      const choice = shopExpertChoice(task)
      expect(choice.query).toBe(task.query)
      expect(choice.rank).toBeLessThan(10)
    }
    // Level 3 draws the instructions the full task set always had, reordered phrasings included.
    expect(shopTasks("test", { seed: 5, count: 50, options: level3 }).some((t) => / that is /.test(t.text) && !t.text.includes(t.query))).toBe(true)
    expect(shopTasks("test", { seed: 5, count: 3, options: level3 }).map((t) => t.id)).toEqual(["shop/test/3/0/5/0", "shop/test/3/0/5/1", "shop/test/3/0/5/2"])
  })

  test("train and test target disjoint product sets; ids round-trip; bad options are rejected", () => {
    const train = shopTasks("train", { seed: 1, count: 400, options: level3 })
    const test_ = shopTasks("test", { seed: 1, count: 400, options: level3 })
    const trainProducts = new Set(train.map((t) => t.product))
    expect(test_.some((t) => trainProducts.has(t.product))).toBe(false)
    for (const t of [...train.slice(0, 50), ...test_.slice(0, 50)]) expect(shopTaskFromId(t.id)).toEqual(t)
    expect(shopTasks("test", { seed: 1, count: 5, offset: 395, options: level3 })).toEqual(test_.slice(395))
    for (const t of shopTasks("test", { seed: 1, count: 30 })) expect(shopTaskFromId(t.id)).toEqual(t)
    for (const id of ["shop/valid/3/0/0/0", "shop/train/3/x/0/0", "shop/train/3/0/0", "shop/train/3/0/0/-1", "shop/train/4/0/0/0", "shop/train/0/0/0"]) {
      expect(shopTaskFromId(id)).toBeUndefined()
    }
    expect(() => shopTasks("train", { seed: 0, count: 1, options: { catalog_seed: "abc" } })).toThrow(/catalog_seed/)
    expect(() => shopTasks("train", { seed: 0, count: 1, options: { colour: "x" } })).toThrow(/colour/)
  })
})

describe("shop pages", () => {
  const task: ShopTask = shopTasks("train", { seed: 2, count: 1, options: level3 })[0]!

  test("search, paging, item page, details, options, back, buy", () => {
    const env = new ShopEnvironment(task, settings)
    const start = Effect.runSync(env.reset({ seed: 0 }))
    expect(start.observation).toBe("Search page. Use search[query] to find products.")
    expect(start.info.admissibleActions).toEqual(["search[<query>]"])
    const results = Effect.runSync(env.step(`search[${task.query}]`))
    const lines = results.observation.split("\n")
    expect(lines[0]).toMatch(/^Results for ".+", page 1 of 5 \(50 total\)\. \[Back to Search\] \[Next >\]$/)
    expect(lines.length).toBe(11)
    expect(results.info.admissibleActions).toContain("click[next >]")
    expect(results.info.admissibleActions).not.toContain("click[< prev]")
    const page2 = Effect.runSync(env.step("click[Next >]"))
    expect(page2.observation).toContain("page 2 of 5")
    expect(page2.info.admissibleActions).toContain("click[< prev]")
    expect(Effect.runSync(env.step("click[< prev]")).observation).toContain("page 1 of 5")
    // Searching is only possible on the search page.
    const again = Effect.runSync(env.step("search[anything]"))
    expect(again.info.actionValid).toBe(false)
    expect(again.reward).toBe(-0.1)
    expect(again.observation).toStartWith("Invalid action.\nResults for")
    const asin = lines[1]!.slice(1, 7)
    const item = Effect.runSync(env.step(`click[${asin}]`))
    const p = catalog.products[catalog.byAsin.get(asin)!]!
    expect(item.observation).toContain(p.title)
    expect(item.observation).toContain(`Price: $${p.price.toFixed(2)}`)
    expect(item.observation).toEndWith("[Description] [Features] [Reviews] [Buy Now]")
    expect(Effect.runSync(env.step("click[features]")).observation).toBe(`[Back to Search] [< Prev]\nFeatures: ${p.attributes.join("; ")}`)
    expect(Effect.runSync(env.step("click[< prev]")).observation).toBe(item.observation)
    const value = p.options[0]!.values[1]!
    const picked = Effect.runSync(env.step(`click[${value}]`))
    expect(picked.observation).toContain(`Selected: ${value}`)
    const bought = Effect.runSync(env.step("click[buy now]"))
    expect(bought.terminated).toBe(true)
    expect(bought.observation).toBe(`You bought ${p.title} (${value}) for $${p.price.toFixed(2)}.`)
    const expected = shopReward(task, p, new Map([[p.options[0]!.name, value]])).reward
    expect(bought.reward).toBeCloseTo(expected, 12)
    expect(bought.info.score).toBeCloseTo(expected, 12)
    expect(bought.info.won).toBe(expected === 1)
    expect(Effect.runSync(env.step("click[buy now]")).observation).toBe("The episode has ended.")
  })

  test("back to search clears the query; an empty result list offers only Back to Search", () => {
    const env = new ShopEnvironment(task, settings)
    Effect.runSync(env.reset({ seed: 0 }))
    const none = Effect.runSync(env.step("search[qqqq zzzz]"))
    expect(none.observation).toBe('No results for "qqqq zzzz". [Back to Search]')
    expect(none.info.admissibleActions).toEqual(["click[back to search]"])
    expect(Effect.runSync(env.step("click[back to search]")).info.admissibleActions).toEqual(["search[<query>]"])
    expect(Effect.runSync(env.step("search[]")).info.actionValid).toBe(false)
  })

  test("the turn cap truncates at 30 steps, invalid ones included; three identical actions in a row stop the episode", () => {
    const env = shop.make(task)
    Effect.runSync(env.reset({ seed: 0 }))
    for (let i = 1; i <= 30; i++) {
      const result = Effect.runSync(env.step(i % 3 === 1 ? "search[shoes]" : i % 3 === 2 ? "click[back to search]" : "click[nothing]"))
      expect(result.truncated).toBe(i === 30)
      expect(result.terminated).toBe(false)
    }
    expect(Effect.runSync(env.step("click[back to search]")).truncated).toBe(true)
    Effect.runSync(env.reset({ seed: 0 }))
    expect([Effect.runSync(env.step("click[x]")), Effect.runSync(env.step("click[x]"))].map((r) => r.truncated)).toEqual([false, false])
    expect(Effect.runSync(env.step("click[x]")).truncated).toBe(true)
    const webshop = makeShopPackage({ maxSteps: 15, repeatLimit: 0 }).make(task)
    Effect.runSync(webshop.reset({ seed: 0 }))
    for (let i = 1; i <= 15; i++) expect(Effect.runSync(webshop.step("click[x]")).truncated).toBe(i === 15)
  })

  test("law: any action string is safe and only listed actions are valid", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string({ maxLength: 40 }),
            fc.constantFrom("click[buy now]", "click[next >]", "click[< prev]", "click[back to search]", "search[tea]", `search[${task.query}]`, "click[]", "search[ ]"),
            fc.integer({ min: 0, max: 20 }),
          ),
          { maxLength: 25 },
        ),
        (actions) => {
          const env = new ShopEnvironment(task, settings)
          let admissible = Effect.runSync(env.reset({ seed: 0 })).info.admissibleActions!
          for (const entry of actions) {
            // A number picks that admissible action (modulo the list).
            const listed = typeof entry === "number"
            const action = listed ? (admissible[entry % Math.max(1, admissible.length)] ?? "") : entry
            const result = Effect.runSync(env.step(action))
            expect(result.reward).toBeGreaterThanOrEqual(-0.1)
            expect(result.reward).toBeLessThanOrEqual(1)
            // A step earns the purchase's score when it buys, less the penalty when it is invalid.
            expect(result.reward).toBeCloseTo((result.terminated ? (result.info.score as number) : 0) - (result.info.actionValid ? 0 : 0.1), 12)
            if (listed && admissible.length > 0) expect(result.info.actionValid).toBe(true)
            if (result.terminated || result.truncated) break
            admissible = result.info.admissibleActions!
          }
        },
      ),
      { numRuns: 200 },
    )
  })

  test("law: the same task and actions give the same episode", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10000 }), fc.integer({ min: 0, max: 2 ** 31 }), (index, seed) => {
        const t = shopTaskFromId(`shop/test/3/0/0/${index}`)!
        const play = () => {
          const env = new ShopEnvironment(t, settings)
          const rng = new Rng(seed)
          const out: Array<unknown> = [Effect.runSync(env.reset({ seed: 0 }))]
          let admissible: ReadonlyArray<string> = ["search[<query>]"]
          for (let i = 0; i < 10 && admissible.length > 0; i++) {
            const pick = rng.pick(admissible)
            const result = Effect.runSync(env.step(pick === "search[<query>]" ? `search[${t.query}]` : pick))
            out.push(result)
            admissible = result.info.admissibleActions!
          }
          return out
        }
        expect(play()).toEqual(play())
      }),
      { numRuns: 40 },
    )
  })
})

describe("shop expert and random play", () => {
  test("the expert's purchase has reward 1 on 1,000 train and 300 test tasks, and 300 of each lower level", () => {
    const lower = ["1", "2"].flatMap((difficulty) => shopTasks("test", { seed: 7, count: 300, options: { difficulty } }))
    for (const task of [...shopTasks("train", { seed: 7, count: 1000, options: level3 }), ...shopTasks("test", { seed: 7, count: 300, options: level3 }), ...lower]) {
      const env = new ShopEnvironment(task, settings)
      Effect.runSync(env.reset({ seed: 0 }))
      const plan = shopExpertPlan(task)
      expect(plan.length).toBeLessThanOrEqual(15)
      let last
      for (const step of plan) {
        last = Effect.runSync(env.step(step.action))
        if (!last.info.actionValid) throw new Error(`${task.id}: expert action ${step.action} rejected`)
      }
      expect(last!.reward).toBe(1)
      expect(last!.info.won).toBe(true)
      expect(last!.terminated).toBe(true)
    }
  })

  test("random play mostly fails at level 3", () => {
    const rng = new Rng(5)
    const tasks = shopTasks("test", { seed: 0, count: 300, options: level3 })
    let wins = 0
    for (const task of tasks) {
      const env = new ShopEnvironment(task, settings)
      let admissible = Effect.runSync(env.reset({ seed: 0 })).info.admissibleActions!
      for (;;) {
        const pick = rng.pick(admissible)
        const result = Effect.runSync(env.step(pick === "search[<query>]" ? `search[${task.productType}]` : pick))
        if (result.terminated || result.truncated) {
          if (result.info.won) wins++
          break
        }
        admissible = result.info.admissibleActions!
      }
    }
    expect(wins / tasks.length).toBeLessThan(0.1)
  })
})

describe("shop reference critic", () => {
  const expectations: Record<string, RegExp> = {
    "skip-options": /^(Missing option: .+ for \w+ was not selected\.|Missing: Buy Now was never clicked)/,
    "wrong-option": /^(Wrong option: you chose .+, but the task needs .+\.|Missing)/,
    "wrong-item": /^(Wrong item|Too expensive|Missing option|Wrong option|Missing: Buy Now)/,
    "no-buy": /^Missing: (no search was made|no item was opened|Buy Now was never clicked)/,
    "wrong-search": /^Wrong item: you bought .+, but the task asks for .+\./,
    browse: /^Missing: Buy Now was never clicked\./,
  }

  test("names the first wrong or missing part of each corrupted attempt, within the critic budget", () => {
    const rng = new Rng(8)
    for (const task of [...shopTasks("train", { seed: 12, count: 150, options: level3 }), ...shopTasks("train", { seed: 12, count: 60 })]) {
      for (const corruption of shopCorruptions) {
        const critique = shopCritique(task, corruptedShopPlan(task, corruption, rng).map((s) => s.action))
        expect(critique).toMatch(expectations[corruption]!)
        expect(critique).toMatch(/ <critic>Tip 1: [^<]+<\/critic>$/)
        expect(new TextEncoder().encode(` ${critique}\n\n`).length).toBeLessThanOrEqual(shop.maxTokens.critic)
      }
      expect(shopCritique(task, shopExpertPlan(task).map((s) => s.action))).toBe("Correct: the purchase matches the task. <critic>Tip 1: Do the same again.</critic>")
    }
  })

  test("hand-checked critiques", () => {
    const task = shopTasks("train", { seed: 4, count: 1, options: level3 })[0]!
    const choice = shopExpertChoice(task)
    const select = task.options.length > 0 ? ` Tip 3: Select ${task.options.map(([, v]) => v).join(", ")}.` : " Tip 3: Click Buy Now."
    expect(shopCritique(task, [])).toBe(`Missing: no search was made. <critic>Tip 1: Use search[${choice.query}]. Tip 2: Open item ${choice.product.asin}.${select}</critic>`)
    expect(shopCritique(task, [`search[${choice.query}]`])).toStartWith(`Missing: no item was opened. <critic>Tip 1: Open item ${choice.product.asin}. Tip 2: `)
    // An attempt that buys a matching but too expensive product.
    let checked = 0
    for (const t of shopTasks("train", { seed: 4, count: 40, options: level3 })) {
      const c = shopExpertChoice(t)
      const over = c.results
        .slice(0, 10)
        .map((i) => catalog.products[i]!)
        .find((p) => p.type === t.productType && t.attributes.every((a) => p.attributes.includes(a)) && p.price > t.priceCeiling)
      if (over === undefined) continue
      checked++
      const actions = [`search[${c.query}]`, `click[${over.asin}]`, "click[buy now]"]
      expect(shopCritique(t, actions)).toStartWith(`Too expensive: $${over.price.toFixed(2)} is over the ${t.priceCeiling} dollar limit. <critic>Tip 1: Open item ${c.product.asin}.`)
    }
    expect(checked).toBeGreaterThan(0)
  })
})

describe("shop package", () => {
  test("declares its bounds, and the projection knobs reach the environment", () => {
    expect(shop.name).toBe("shop")
    expect(shop.maxSteps).toBe(30)
    expect(shop.rewardRange).toEqual([0, 1])
    const lenient = makeShopPackage({ projection: { invalid_action_penalty: 0.25 } })
    const env = lenient.make(shopTasks("train", { seed: 0, count: 1 })[0]!)
    Effect.runSync(env.reset({ seed: 0 }))
    expect(Effect.runSync(env.step("click[nothing]")).reward).toBe(-0.25)
    expect(lenient.rewardRange).toEqual([-0.25, 1])
  })

  test("expert completions fit the solver budget", () => {
    for (const task of shopTasks("train", { seed: 9, count: 200 })) {
      for (const turn of Effect.runSync(runScript(shop, task, shopExpertPlan(task))).turns) {
        expect(new TextEncoder().encode(turn.completion).length).toBeLessThanOrEqual(shop.maxTokens.solver)
      }
    }
  })
})
