import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import { checkEnvironment, Rng, type StepResult } from "@icrl/core"
import fc from "fast-check"
import {
  buildSearchQaWorld,
  corruptedSearchQaPlan,
  entityQuery,
  EPISODE_OVER,
  makeSearchQaPackage,
  parseAction,
  passageText,
  runScript,
  searchqa,
  SEARCH_QA_ANSWER,
  SEARCH_QA_SEARCH,
  searchQaCorruptions,
  searchQaCorruptionsFor,
  searchQaCritique,
  SearchQaEnvironment,
  searchQaExpertPlan,
  searchQaRelations,
  type SearchQaSettings,
  type SearchQaTask,
  searchQaTaskFromId,
  searchQaTasks,
  searchQaWorld,
  topicSplitOf,
} from "../src/index.ts"

const settings: SearchQaSettings = { maxSearches: 4, topK: 3, passageChars: 160, maxSteps: 5, repeatLimit: 0, invalidActionPenalty: 0.1 }
const world = searchQaWorld(0)
const level3 = { difficulty: "3" }
const train = searchQaTasks("train", { seed: 0, count: 1500, options: level3 })
const heldOut = searchQaTasks("test", { seed: 0, count: 1500, options: level3 })
const all = [...train, ...heldOut]

const play = (task: SearchQaTask, actions: ReadonlyArray<string>, s: SearchQaSettings = settings) => {
  const env = new SearchQaEnvironment(task, s)
  Effect.runSync(env.reset({ seed: 0 }))
  const results: Array<StepResult> = []
  for (const a of actions) {
    const r = Effect.runSync(env.step(a))
    results.push(r)
    if (r.terminated || r.truncated) break
  }
  return { env, results, last: results.at(-1) }
}

describe("generated world", () => {
  test("has a few thousand short documents, the same for the same seed and different for another", () => {
    expect(world.docs.length).toBeGreaterThan(2000)
    expect(world.docs.length).toBeLessThan(6000)
    const again = buildSearchQaWorld(0)
    expect(again.docs).toEqual(world.docs)
    expect(again.entities).toEqual(world.entities)
    expect(buildSearchQaWorld(1).docs).not.toEqual(world.docs)
    // Every passage fits the default passage length uncut.
    for (const d of world.docs) expect(passageText(d, 1000).length).toBeLessThanOrEqual(160)
  })

  test("each entity's document states its facts and says what it is", () => {
    for (const e of world.entities) {
      const doc = world.docs[e.doc]!
      expect(doc.text).toContain(e.name)
      expect(doc.text.toLowerCase()).toContain(e.kind)
      for (const [relation, value] of Object.entries(e.facts)) {
        const text = typeof value === "number" ? world.entities[value]!.name : value
        if (relation === "country" && world.entities[e.facts.country as number]!.facts.capital === e.index) continue
        expect(doc.text).toContain(text)
      }
    }
  })

  test("relations are typed and functional: each graph entity has one value per relation of its type", () => {
    for (const type of Object.keys(world.byType) as Array<keyof typeof world.byType>) {
      for (const i of world.byType[type]) {
        const e = world.entities[i]!
        for (const rel of Object.values(searchQaRelations).filter((r) => r.domain === type)) {
          const value = e.facts[rel.name]
          expect(value).toBeDefined()
          if (rel.range === "year") expect(String(value)).toMatch(/^\d{4}$/)
          else expect(world.entities[value as number]!.type).toBe(rel.range)
        }
      }
    }
  })

  test("distractors share names: namesakes of people, works of different kinds with one title, landmarks named after cities", () => {
    expect(world.namesakes.size).toBeGreaterThan(50)
    for (const [person, namesakes] of world.namesakes) {
      for (const n of namesakes) {
        expect(world.entities[n]!.name).toBe(world.entities[person]!.name)
        expect(world.entities[n]!.kind).not.toBe(world.entities[person]!.kind)
      }
    }
    const works = [...world.byType.film, ...world.byType.novel, ...world.byType.album].map((i) => world.entities[i]!)
    const kindsByTitle = new Map<string, Set<string>>()
    for (const w of works) kindsByTitle.set(w.name, (kindsByTitle.get(w.name) ?? new Set()).add(w.type))
    expect([...kindsByTitle.values()].filter((k) => k.size > 1).length).toBeGreaterThan(20)
    // Within one kind a title is unique, so "the film X" names one entity.
    for (const type of ["film", "novel", "album", "city", "company", "university", "country"] as const) {
      const names = world.byType[type].map((i) => world.entities[i]!.name)
      expect(new Set(names).size).toBe(names.length)
    }
    const people = world.byType.person.map((i) => world.entities[i]!.name)
    expect(new Set(people).size).toBe(people.length)
    const cityNames = world.byType.city.map((i) => world.entities[i]!.name)
    expect(world.docs.filter((d) => cityNames.some((c) => d.title.startsWith(`${c} `))).length).toBeGreaterThan(20)
  })
})

describe("generated tasks", () => {
  test("law: the same seed gives the same tasks, ids rebuild the task, and offsets index the sequence", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.nat(500), fc.constantFrom("train", "test") as fc.Arbitrary<"train" | "test">, (seed, offset, split) => {
        const a = searchQaTasks(split, { seed, count: 4, offset })
        expect(searchQaTasks(split, { seed, count: 4, offset })).toEqual(a)
        expect(searchQaTasks(split, { seed, count: 2, offset: offset + 2 })).toEqual(a.slice(2))
        for (const t of a) expect(searchQaTaskFromId(t.id)).toEqual(t)
      }),
      { numRuns: 60 },
    )
    expect(searchQaTasks("train", { seed: 1, count: 20 })).not.toEqual(searchQaTasks("train", { seed: 2, count: 20 }))
  })

  test("1 to 3 hops, gold answer and supporting documents along the relation path", () => {
    const counts = [0, 0, 0, 0]
    for (const t of all) {
      counts[t.hops.length]!++
      expect(t.path.length).toBe(t.hops.length + 1)
      t.hops.forEach((hop, j) => {
        const e = world.entities[t.path[j]!]!
        expect(hop.doc).toBe(e.doc)
        expect(hop.entity).toBe(e.name)
        expect(searchQaRelations[hop.relation as keyof typeof searchQaRelations].domain).toBe(e.type)
        const value = e.facts[hop.relation as keyof typeof e.facts]
        if (j < t.hops.length - 1) expect(value).toBe(t.path[j + 1]!)
        else expect(typeof value === "number" ? world.entities[value]!.name : value).toBe(t.answers[0]!)
      })
      expect(new Set(t.path.filter((p) => p >= 0)).size).toBe(t.path.filter((p) => p >= 0).length)
      expect(t.text).toEndWith("?")
      expect(t.text.toLowerCase()).not.toContain(t.answers[0]!.toLowerCase())
    }
    for (const n of [1, 2, 3]) expect(counts[n]!).toBeGreaterThan(all.length / 5)
    const two = searchQaTasks("test", { seed: 0, count: 50, options: { hops: "2" } })
    expect(two.every((t) => t.hops.length === 2)).toBe(true)
    expect(two[0]!.id).toContain("/2-2/")
  })

  test("train and test questions are about disjoint entities", () => {
    const trainTopics = new Set(train.map((t) => t.path[0]!))
    for (const t of heldOut) {
      expect(trainTopics.has(t.path[0]!)).toBe(false)
      expect(topicSplitOf(0, t.path[0]!)).toBe("test")
    }
    expect(train.every((t) => topicSplitOf(0, t.path[0]!) === "train")).toBe(true)
    const trainIds = new Set(train.map((t) => t.id))
    expect(heldOut.some((t) => trainIds.has(t.id))).toBe(false)
  })

  test("bad options and ids are rejected, naming the option", () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ hops: "4" }, /hops/],
      [{ hops: "3-1" }, /hops/],
      [{ corpus_seed: "x" }, /corpus_seed/],
      [{ colour: "red" }, /colour/],
      [{ test_fraction: "0.5" }, /test_fraction/],
    ]
    for (const [options, field] of bad) expect(() => searchQaTasks("train", { seed: 0, count: 1, options })).toThrow(field)
    for (const id of ["", "searchqa", "searchqa/train/0/1-3/0", "searchqa/dev/0/1-3/0/1", "searchqa/train/0/1-4/0/1", "searchqa/train/x/1-3/0/1", "searchqa/train/0/1-3/0/-1"]) {
      expect(searchQaTaskFromId(id)).toBeUndefined()
    }
  })
})

describe("expert and retrieval", () => {
  test("the expert solves 100% of generated questions within the search cap", () => {
    for (const t of all) {
      const plan = searchQaExpertPlan(t, settings.maxSearches).map((s) => s.action)
      expect(plan.length).toBeLessThanOrEqual(settings.maxSteps)
      const { last, results } = play(t, plan)
      expect(results.every((r) => r.info.actionValid)).toBe(true)
      expect(last!.info.won).toBe(true)
      expect(last!.reward).toBe(1)
      expect(last!.info.score).toBe(1)
      expect(last!.terminated).toBe(true)
    }
  })

  test("the expert searches a one-hop question as asked, and each hop of a longer one by its entity's name as the question writes it", () => {
    // A byte-level model learns to copy a span unchanged far sooner than to cut one out or lower-case it.
    let oneHop = 0
    for (const t of all) {
      const first = t.hops[0]!
      expect(t.text).toContain(first.entity)
      if (t.hops.length === 1) {
        oneHop++
        expect(first.query).toBe(t.text)
      } else {
        t.hops.forEach((hop, j) => expect(hop.query).toBe(entityQuery(world.entities[t.path[j]!]!)))
        expect(first.query.startsWith(first.entity)).toBe(true)
      }
    }
    expect(oneHop).toBeGreaterThan(0)
    expect(oneHop).toBeLessThan(all.length)
  })

  test("the gold supporting documents rank in the top k for the expert's queries", () => {
    for (const t of all) {
      const plan = searchQaExpertPlan(t, settings.maxSearches).map((s) => s.action)
      const { env } = play(t, plan)
      t.hops.forEach((hop, j) => {
        const shown = env.searchLog[j]!
        expect(shown.query).toBe(hop.query.toLowerCase())
        expect(shown.docs.length).toBeLessThanOrEqual(settings.topK)
        expect(shown.docs).toContain(hop.doc)
      })
    }
  })

  test("with a smaller search budget the expert still answers within the step cap", () => {
    const tight = makeSearchQaPackage({ maxSearches: 1 })
    expect(tight.maxSteps).toBe(2)
    const report = Effect.runSync(checkEnvironment(tight, { episodes: 10, seed: 3 }))
    expect(report.failures).toEqual([])
    expect(report.expertSuccessRate).toBe(1)
  })
})

describe("environment", () => {
  const task = train.find((t) => t.hops.length === 2)!

  test("search shows the top k passages, answer ends the episode with exact match and token F1", () => {
    const env = new SearchQaEnvironment(task, settings)
    const start = Effect.runSync(env.reset({ seed: 0 }))
    expect(start.observation).toContain("4 searches left")
    expect(start.info.admissibleActions).toEqual([SEARCH_QA_SEARCH, SEARCH_QA_ANSWER])
    const r = Effect.runSync(env.step(`search[${task.hops[0]!.query}]`))
    expect(r.info.actionValid).toBe(true)
    expect(r.reward).toBe(0)
    expect(r.observation).toStartWith(`Results for "${task.hops[0]!.query.toLowerCase()}" (3 searches left):\n1. `)
    expect(r.observation.split("\n").length).toBe(4)
    expect(r.observation).toContain(passageText(world.docs[task.hops[0]!.doc]!, 160))
    // Case, articles and punctuation do not matter; the score is token F1.
    const done = Effect.runSync(env.step(`answer[The ${task.answers[0]!.toUpperCase()}.]`))
    expect(done).toMatchObject({ reward: 1, terminated: true, truncated: false })
    expect(done.info).toMatchObject({ won: true, score: 1, actionValid: true, admissibleActions: [] })
    expect(Effect.runSync(env.step("look")).observation).toBe(EPISODE_OVER)
    const partial = play(task, [`answer[${task.answers[0]} extra words here]`]).last!
    expect(partial.reward).toBe(0)
    expect(partial.info.won).toBe(false)
    expect(partial.info.score).toBeGreaterThan(0)
    expect(partial.info.score).toBeLessThan(1)
  })

  test("searches are capped; the answer still fits; invalid steps are penalized and show the page again", () => {
    const { results } = play(task, ["search[a]", "search[b]", "search[velmora city]", "search[d]", "search[e]", "answer[x]"])
    expect(results.slice(0, 4).every((r) => r.info.actionValid)).toBe(true)
    expect(results[3]!.info.admissibleActions).toEqual([SEARCH_QA_ANSWER])
    expect(results[4]!.info.actionValid).toBe(false)
    expect(results[4]!.reward).toBeCloseTo(-0.1, 10)
    expect(results[4]!.observation).toStartWith("No searches left: use answer[text].\n")
    // The fifth step was spent on the refused search, so the cap truncated the episode.
    expect(results[4]!.truncated).toBe(true)
    expect(results.length).toBe(5)
    expect(play(task, ["search[a]", "search[b]", "search[c]", "search[d]", "answer[x]"]).last!.terminated).toBe(true)
    const invalid = play(task, ["go north", "search[]", "answer[ ]", "<action>search[x]</action>", "x".repeat(5000)]).results
    for (const r of invalid) {
      expect(r.info.actionValid).toBe(false)
      expect(r.observation).toStartWith("Invalid action. Use search[query] or answer[text].\nNo passages yet")
    }
    expect(invalid.at(-1)!.truncated).toBe(true)
  })

  test("law: any action string never throws, results stay well formed and the admissible actions stay accepted", () => {
    const action = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: "grapheme", maxLength: 40 }),
      fc.string({ maxLength: 60 }).map((s) => `search[${s}]`),
      fc.string({ maxLength: 60 }).map((s) => `answer[${s}]`),
      fc.constantFrom("search[", "answer[]", "search[]]", "SEARCH[Velmora City]", "answer[[x]]", "\u0000", ""),
    )
    fc.assert(
      fc.property(fc.nat(all.length - 1), fc.array(action, { maxLength: 8 }), (i, actions) => {
        const env = new SearchQaEnvironment(all[i]!, settings)
        let admissible = Effect.runSync(env.reset({ seed: 0 })).info.admissibleActions ?? []
        let ended = false
        for (const a of actions) {
          const r = Effect.runSync(env.step(a))
          expect(typeof r.observation).toBe("string")
          expect(r.reward).toBeGreaterThanOrEqual(-0.1 - 1e-12)
          expect(r.reward).toBeLessThanOrEqual(1)
          expect(r.info.score).toBeGreaterThanOrEqual(0)
          expect(r.info.score).toBeLessThanOrEqual(1)
          if (ended) expect(r.observation).toBe(EPISODE_OVER)
          ended ||= r.terminated || r.truncated
          if (!ended) admissible = r.info.admissibleActions ?? []
        }
        if (!ended && admissible.length > 0) expect(Effect.runSync(env.step(admissible[0]!)).info.actionValid).toBe(true)
      }),
      { numRuns: 400 },
    )
  })

  test("reset returns to the task's start and switches tasks by id", () => {
    const env = new SearchQaEnvironment(task, settings)
    const first = Effect.runSync(env.reset({ seed: 0 }))
    Effect.runSync(env.step("search[velmora]"))
    expect(Effect.runSync(env.reset({ seed: 0 }))).toEqual(first)
    expect(env.searchLog).toEqual([])
    const other = heldOut[0]!
    Effect.runSync(env.reset({ seed: 0, taskId: other.id }))
    const plan = searchQaExpertPlan(other, 4).map((s) => s.action)
    let last: StepResult | undefined
    for (const a of plan) last = Effect.runSync(env.step(a))
    expect(last!.info.won).toBe(true)
    expect(() => Effect.runSync(env.reset({ seed: 0, taskId: "searchqa/nowhere" }))).toThrow(/searchqa/)
  })
})

describe("reference critic", () => {
  const critique = (t: SearchQaTask, actions: ReadonlyArray<string>) => searchQaCritique(t, actions, settings)

  test("names the missing hop and the search that finds it", () => {
    // A 3-hop question whose second passage the first and third hops' searches do not retrieve.
    const retrievedBy = (t: SearchQaTask, queries: ReadonlyArray<string>): Set<number> => {
      const env = new SearchQaEnvironment(t, settings)
      Effect.runSync(env.reset({ seed: 0 }))
      for (const q of queries) Effect.runSync(env.step(`search[${q}]`))
      return new Set(env.searchLog.flatMap((s) => s.docs))
    }
    const t = train.find((x) => x.hops.length === 3 && !retrievedBy(x, [x.hops[0]!.query, x.hops[2]!.query]).has(x.hops[1]!.doc))!
    const [h1, h2, h3] = t.hops
    expect(critique(t, [])).toStartWith(`No answer given. Missing hop 1 of 3: the passage on "${h1!.entity}" was never retrieved. <critic>Tip 1: Use search[${h1!.query}].`)
    expect(critique(t, [`search[${h1!.query}]`, `search[${h3!.query}]`, "answer[somewhere]"])).toBe(
      `Missing hop 2 of 3: the passage on "${h2!.entity}" was never retrieved. <critic>Tip 1: Use search[${h2!.query}].</critic>`,
    )
    expect(critique(t, [...searchQaExpertPlan(t, 4).map((s) => s.action)])).toBe("Correct: the answer is right. <critic>Tip 1: Do the same again.</critic>")
  })

  test("names an answer that stops at a bridge entity, a namesake, or a wrong final hop", () => {
    const t = train.find((x) => x.hops.length === 2)!
    const bridge = world.entities[t.path[1]!]!.name
    expect(critique(t, [`search[${t.hops[0]!.query}]`, `answer[${bridge}]`])).toStartWith(`Stopped early: ${bridge} is only hop 1 of 2. <critic>Tip 1: Next find `)
    const searches = t.hops.map((h) => `search[${h.query}]`)
    expect(critique(t, [...searches, "answer[nowhere at all]"])).toStartWith('Wrong final hop: "nowhere at all" is not ')
    expect(critique(t, searches)).toStartWith("Missing answer: every hop was found")
    const withNamesake = all.find((x) => searchQaCorruptionsFor(x).includes("namesake"))!
    const plan = corruptedSearchQaPlan(withNamesake, "namesake", 4, new Rng(1)).map((s) => s.action)
    expect(critique(withNamesake, plan)).toMatch(/^Wrong hop \d: ".*" belongs to another /)
  })

  test("every corrupted attempt fails and gets a critique that is not 'Correct' and fits the critic's budget", () => {
    const rng = new Rng(9)
    const seen = new Set<string>()
    for (const t of train.slice(0, 300)) {
      for (const c of searchQaCorruptionsFor(t)) {
        seen.add(c)
        const attempt = Effect.runSync(runScript(searchqa, t, corruptedSearchQaPlan(t, c, 4, rng)))
        expect(attempt.won).toBe(false)
        const text = searchqa.referenceCritique!(t, attempt)
        expect(text).not.toStartWith("Correct")
        expect(new TextEncoder().encode(` ${text}\n\n`).length).toBeLessThanOrEqual(searchqa.maxTokens.critic)
        expect(text).toMatch(/ <critic>Tip 1: [^<]+<\/critic>$/)
      }
    }
    expect([...seen].sort()).toEqual([...searchQaCorruptions].sort())
  })
})

describe("package", () => {
  test("passes every conformance check of the environment doctor", () => {
    const report = Effect.runSync(checkEnvironment(searchqa, { episodes: 12, seed: 1 }))
    expect(report.failures).toEqual([])
    expect(report.expertSuccessRate).toBe(1)
    expect(report.criticCoverage).toBe(1)
    expect(report.checks.every((c) => c.ok && !c.skipped)).toBe(true)
    expect(report.promptChars.max).toBeLessThan(300)
  })

  test("warm-start data: three roles, two copy drills per task, stop-terminated completions, deterministic per seed, compact prompts", () => {
    const all = Effect.runSync(searchqa.warmStart!({ seed: 3, count: 24 }))
    expect(Effect.runSync(searchqa.warmStart!({ seed: 3, count: 24 }))).toEqual(all)
    expect(Effect.runSync(searchqa.warmStart!({ seed: 4, count: 24 }))).not.toEqual(all)
    const drills = all.filter((d) => d.drill === true)
    expect(drills.length).toBe(48)
    for (const d of drills) expect(`${d.prompt.slice("Copy: ".length, -1)}\n\n`).toBe(d.completion)
    const demos = all.filter((d) => d.drill !== true)
    const roles = (r: string) => demos.filter((d) => d.role === r)
    expect(roles("solver").length).toBeGreaterThan(24)
    expect(roles("critic").length).toBeGreaterThanOrEqual(24)
    expect(roles("refiner").length).toBeGreaterThan(0)
    for (const d of demos) expect(d.completion).toEndWith("\n\n")
    for (const d of [...roles("solver"), ...roles("refiner")]) {
      expect(d.completion).toMatch(/^<think>[a-z]+<\/think><action>(search|answer)\[[^\]]+\]<\/action>\n\n$/)
      expect(parseAction(d.completion).valid).toBe(true)
      expect(new TextEncoder().encode(d.completion).length).toBeLessThanOrEqual(searchqa.maxTokens.solver)
      // The projection clips every part of the prompt (history, observation, critique, actions).
      expect(d.prompt.length).toBeLessThan(1100)
    }
    for (const d of roles("refiner")) expect(d.prompt).toMatch(/^(Recent .*\n> .*\n)?Task: .+\nTip 1: .+\nNow: /)
    expect(roles("critic").some((d) => d.completion.startsWith(" Correct"))).toBe(true)
    expect(roles("critic").some((d) => !d.completion.startsWith(" Correct"))).toBe(true)
  })

  test("knobs set the search budget, passages per search and passage length; bad knobs throw", () => {
    const pkg = makeSearchQaPackage({ maxSearches: 6, topK: 1, passageChars: 40 })
    expect(pkg.maxSteps).toBe(7)
    const t = train[0]!
    const env = pkg.make(t)
    Effect.runSync(env.reset({ seed: 0 }))
    const r = Effect.runSync(env.step(`search[${t.hops[0]!.query}]`))
    expect(r.observation).toContain("5 searches left")
    const lines = r.observation.split("\n")
    expect(lines.length).toBe(2)
    expect(lines[1]!.length).toBeLessThanOrEqual(3 + 40)
    expect(lines[1]).toEndWith("...")
    expect(() => makeSearchQaPackage({ maxSearches: 0 })).toThrow()
    expect(() => makeSearchQaPackage({ projection: { nope: 1 } })).toThrow()
  })
})
