import { Effect } from "effect"
import { Rng } from "@icrl/core"
import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import {
  corruptedPlan,
  corruptionsFor,
  generateLayout,
  household,
  HouseholdEnvironment,
  householdCritique,
  householdExpertPlan,
  householdLayout,
  householdSplitOf,
  type HouseholdTask,
  householdTaskFromId,
  householdTasks,
  householdTaskTypes,
  HouseholdWorld,
  listItems,
  makeHouseholdPackage,
  runScript,
} from "../src/index.ts"

const settings = { maxSteps: 50, repeatLimit: 0, invalidActionPenalty: 0.1 }
const level3 = { difficulty: "3" }
const taskFor = (type: HouseholdTask["type"], seed: number): HouseholdTask =>
  householdTasks("train", { seed, count: 1, options: { ...level3, type } })[0]!

describe("household tasks", () => {
  test("task i has type types[i % 6]; ids round-trip; splits are disjoint by world", () => {
    const train = householdTasks("train", { seed: 5, count: 60, options: level3 })
    const test_ = householdTasks("test", { seed: 5, count: 60, options: level3 })
    expect(train.slice(0, 6).map((t) => t.type)).toEqual([...householdTaskTypes])
    for (const t of [...train, ...test_]) {
      expect(householdTaskFromId(t.id)).toEqual(t)
      expect(householdSplitOf(t.worldSeed)).toBe(t.split)
      expect(t.text).toBe(householdLayout(t).goal)
    }
    expect(train.every((t) => t.split === "train") && test_.every((t) => t.split === "test")).toBe(true)
    const trainSeeds = new Set(train.map((t) => t.worldSeed))
    expect(test_.some((t) => trainSeeds.has(t.worldSeed))).toBe(false)
    expect(householdTasks("train", { seed: 5, count: 10, offset: 50, options: level3 })).toEqual(train.slice(50, 60))
  })

  test("malformed ids and options are rejected", () => {
    for (const id of ["", "household", "household/small/fly/1", "household/huge/pick/1", "household/small/pick/x", "household/small/pick/99999999999"]) {
      expect(householdTaskFromId(id)).toBeUndefined()
    }
    expect(() => householdTasks("train", { seed: 0, count: 1, options: { type: "fly" } })).toThrow(/type/)
    expect(() => householdTasks("train", { seed: 0, count: 1, options: { size: "huge" } })).toThrow(/size/)
    expect(() => householdTasks("train", { seed: 0, count: 1, options: { colour: "red" } })).toThrow(/colour/)
  })

  test("difficulty levels: 1 is pick-and-place in two-receptacle rooms, 2 all types in tiny rooms, 3 the small rooms", () => {
    const one = householdTasks("test", { seed: 2, count: 200 })
    expect(householdTasks("test", { seed: 2, count: 200, options: { difficulty: "1" } })).toEqual(one)
    for (const task of one) {
      const layout = householdLayout(task)
      expect(task.id).toStartWith("household/single/pick/")
      // The target and the one place the goal object lies: the first move follows from the room.
      expect(layout.receptacles.length).toBe(2)
      expect(layout.receptacles.some((r) => r.openable)).toBe(false)
      expect(layout.objects.filter((o) => o.kind === layout.goalObject).length).toBe(1)
      expect(layout.objects.length).toBeLessThanOrEqual(2)
      const source = layout.receptacles.findIndex((r) => r.kind !== layout.goalReceptacle)
      expect(householdExpertPlan(task).map((s) => s.action)).toEqual([
        `go to ${layout.receptacles[source]!.name}`,
        `take ${layout.goalObject} 1 from ${layout.receptacles[source]!.name}`,
        `go to ${layout.goalReceptacle} 1`,
        `move ${layout.goalObject} 1 to ${layout.goalReceptacle} 1`,
      ])
    }
    // Some level-1 rooms hold one other object, some none.
    expect(new Set(one.map((t) => householdLayout(t).objects.length))).toEqual(new Set([1, 2]))
    const two = householdTasks("test", { seed: 2, count: 60, options: { difficulty: "2" } })
    expect(two.slice(0, 6).map((t) => t.type)).toEqual([...householdTaskTypes])
    for (const task of two) {
      expect(task.size).toBe("tiny")
      const layout = householdLayout(task)
      expect(layout.receptacles.length).toBeLessThanOrEqual(4)
      // Only an appliance can be opened, and nothing starts inside it.
      for (const o of layout.objects) expect(layout.receptacles[o.location]!.openable).toBe(false)
    }
    // Level 3 is the small-room task set: the same ids and worlds for the same seed.
    const three = householdTasks("test", { seed: 2, count: 60, options: level3 })
    expect(three.map((t) => t.id)).toEqual(three.map((t, i) => `household/small/${householdTaskTypes[i % 6]}/${t.worldSeed}`))
    expect(householdTasks("test", { seed: 2, count: 6, options: { ...level3, size: "tiny", type: "all" } }).map((t) => t.id.split("/").slice(1, 3).join("/"))).toEqual(
      householdTaskTypes.map((t) => `tiny/${t}`),
    )
  })

  test("goal phrasings follow ALFWorld's templates", () => {
    const patterns: Record<HouseholdTask["type"], RegExp> = {
      pick: /^put (a|some) \w+ (in|on) \w+\.$/,
      clean: /^(put a clean \w+ (in|on) \w+|clean some \w+ and put it (in|on) \w+)\.$/,
      heat: /^(put a hot \w+ (in|on) \w+|heat some \w+ and put it (in|on) \w+)\.$/,
      cool: /^(put a cool \w+ (in|on) \w+|cool some \w+ and put it (in|on) \w+)\.$/,
      look: /^(look at \w+ under the desklamp|examine the \w+ with the desklamp)\.$/,
      "pick-two": /^(put two \w+ (in|on) \w+|find two \w+ and put them (in|on) \w+)\.$/,
    }
    for (const difficulty of ["2", "3"]) {
      for (const t of householdTasks("test", { seed: 1, count: 120, options: { difficulty } })) expect(t.text).toMatch(patterns[t.type])
    }
  })

  test("law: the same seed gives the same world, observations and admissible actions", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.constantFrom(...householdTaskTypes), fc.integer({ min: 0, max: 2 ** 31 }), (worldSeed, type, actionSeed) => {
        const task = householdTaskFromId(`household/small/${type}/${worldSeed}`)!
        expect(generateLayout(type, worldSeed, "small")).toEqual(generateLayout(type, worldSeed, "small"))
        const play = () => {
          const env = new HouseholdEnvironment(task, settings)
          const rng = new Rng(actionSeed)
          const out: Array<unknown> = [Effect.runSync(env.reset({ seed: 0 }))]
          let admissible: ReadonlyArray<string> = (out[0] as { info: { admissibleActions: Array<string> } }).info.admissibleActions
          for (let i = 0; i < 15 && admissible.length > 0; i++) {
            const result = Effect.runSync(env.step(rng.pick(admissible)))
            out.push(result)
            admissible = result.info.admissibleActions ?? []
          }
          return out
        }
        expect(play()).toEqual(play())
      }),
      { numRuns: 60 },
    )
  })
})

describe("household world", () => {
  test("ALFWorld-style sentences and preconditions", () => {
    expect(listItems([])).toBe("nothing")
    expect(listItems(["mug 1"])).toBe("a mug 1")
    expect(listItems(["mug 1", "cup 2"])).toBe("a mug 1, and a cup 2")
    expect(listItems(["mug 1", "cup 2", "fork 1"])).toBe("a mug 1, a cup 2, and a fork 1")

    const task = taskFor("clean", 3)
    const layout = householdLayout(task)
    const env = new HouseholdEnvironment(task, settings)
    const first = Effect.runSync(env.reset({ seed: 0 }))
    expect(first.observation).toStartWith("You are in the middle of a room. Looking quickly around you, you see a ")
    const plan = householdExpertPlan(task)
    const take = plan.find((s) => s.action.startsWith("take "))!.action
    // Taking before going there: nothing happens, penalized.
    const early = Effect.runSync(env.step(take))
    expect(early.observation).toBe("Nothing happens.")
    expect(early.info.actionValid).toBe(false)
    expect(early.reward).toBe(-0.1)
    // Heating while holding nothing is not admissible.
    expect(Effect.runSync(env.step("heat mug 1 with microwave 1")).info.actionValid).toBe(false)
    const closed = layout.receptacles.findIndex((r) => r.openable)
    if (closed >= 0) {
      const name = layout.receptacles[closed]!.name
      const arrive = Effect.runSync(env.step(`go to ${name}`))
      expect(arrive.observation).toBe(`You arrive at ${name}. The ${name} is closed.`)
      expect(arrive.info.admissibleActions).toContain(`open ${name}`)
      expect(arrive.info.admissibleActions!.some((a) => a.startsWith("take "))).toBe(false)
      const opened = Effect.runSync(env.step(`Open  ${name.toUpperCase()}`))
      expect(opened.observation).toStartWith(`You open the ${name}. The ${name} is open. In it, you see `)
      expect(Effect.runSync(env.step(`close ${name}`)).observation).toBe(`You close the ${name}.`)
    }
    expect(Effect.runSync(env.step("inventory")).observation).toBe("You are not carrying anything.")
  })

  test("every admissible action is accepted, in every state an expert or random walk reaches", () => {
    const rng = new Rng(9)
    for (const task of [...householdTasks("train", { seed: 2, count: 24, options: level3 }), ...householdTasks("train", { seed: 2, count: 12, options: { difficulty: "2" } })]) {
      const layout = householdLayout(task)
      const prefix = householdExpertPlan(task).map((s) => s.action).slice(0, -1)
      for (let k = 0; k <= prefix.length; k += 2) {
        const world = new HouseholdWorld(layout)
        const path = prefix.slice(0, k)
        for (const a of path) expect(world.act(a).valid).toBe(true)
        for (let r = 0; r < 3; r++) {
          const a = rng.pick(world.admissible())
          world.act(a)
          path.push(a)
        }
        for (const action of world.admissible()) {
          const probe = new HouseholdWorld(layout)
          for (const a of path) probe.act(a)
          expect(probe.act(action).valid).toBe(true)
          expect(probe.validate()).toBeUndefined()
        }
      }
    }
  })

  test("law: any string is a safe action: no throw, state stays valid, non-admissible means Nothing happens", () => {
    const task = taskFor("pick-two", 4)
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom("look", "inventory", "go to countertop 1", "take mug 1 from countertop 1", "")), { maxLength: 30 }), (actions) => {
        const env = new HouseholdEnvironment(task, settings)
        Effect.runSync(env.reset({ seed: 0 }))
        for (const action of actions) {
          const before = env.state.admissible()
          const result = Effect.runSync(env.step(action))
          expect(env.state.validate()).toBeUndefined()
          const listed = before.includes(action.trim().toLowerCase().replace(/\s+/g, " "))
          expect(result.info.actionValid).toBe(listed)
          if (!listed) expect(result.observation).toBe("Nothing happens.")
          expect(result.reward).toBeGreaterThanOrEqual(-0.1)
          expect(result.reward).toBeLessThanOrEqual(1)
        }
      }),
      { numRuns: 200 },
    )
  })

  test("the turn cap truncates at 30 steps, invalid ones included, and steps after the end change nothing", () => {
    const env = household.make(taskFor("heat", 1))
    Effect.runSync(env.reset({ seed: 0 }))
    for (let i = 1; i <= 30; i++) {
      const result = Effect.runSync(env.step(i % 2 === 0 ? "look" : "fly away"))
      expect(result.truncated).toBe(i === 30)
      expect(result.terminated).toBe(false)
    }
    const after = Effect.runSync(env.step("look"))
    expect(after).toEqual({
      observation: "The episode has ended.",
      reward: 0,
      terminated: false,
      truncated: true,
      info: { won: false, actionValid: false, admissibleActions: [], score: 0, steps: 30 },
    })
    expect(Effect.runSync(env.reset({ seed: 0 })).info.admissibleActions!.length).toBeGreaterThan(0)
  })

  test("the same action three times in a row stops the episode; other rules come from the package options", () => {
    const env = household.make(taskFor("pick", 2))
    Effect.runSync(env.reset({ seed: 0 }))
    expect([Effect.runSync(env.step("look")), Effect.runSync(env.step("inventory")), Effect.runSync(env.step("look")), Effect.runSync(env.step("look"))].map((r) => r.truncated)).toEqual([false, false, false, false])
    const third = Effect.runSync(env.step("LOOK "))
    expect(third.truncated).toBe(true)
    expect(third.info.admissibleActions).toEqual([])
    const patient = makeHouseholdPackage({ maxSteps: 50, repeatLimit: 0 }).make(taskFor("pick", 2))
    Effect.runSync(patient.reset({ seed: 0 }))
    for (let i = 1; i < 50; i++) expect(Effect.runSync(patient.step("look")).truncated).toBe(false)
    expect(Effect.runSync(patient.step("look")).truncated).toBe(true)
    expect(() => makeHouseholdPackage({ repeatLimit: -1 })).toThrow(/repeatLimit/)
  })

  test("reset with a task id switches to that task; an unknown id is a TaskNotFound error", () => {
    const [a, b] = householdTasks("train", { seed: 0, count: 2, options: level3 })
    const env = household.make(a!)
    const fresh = Effect.runSync(household.make(b!).reset({ seed: 0 }))
    expect(Effect.runSync(env.reset({ seed: 0, taskId: b!.id }))).toEqual(fresh)
    expect(() => Effect.runSync(env.reset({ seed: 0, taskId: "household/small/pick/x" }))).toThrow(/has no task/)
  })
})

describe("household expert and random play", () => {
  test("the expert succeeds on 1,000 generated tasks of each type, in small, tiny and single rooms", () => {
    for (const [type, size] of householdTaskTypes.flatMap((t) => [[t, "small"], [t, "tiny"], [t, "single"]] as const)) {
      let wins = 0
      let longest = 0
      for (const task of householdTasks("train", { seed: 11, count: size === "small" ? 1000 : 300, options: { type, size } })) {
        const env = new HouseholdEnvironment(task, settings)
        Effect.runSync(env.reset({ seed: 0 }))
        const plan = householdExpertPlan(task)
        longest = Math.max(longest, plan.length)
        let won = false
        for (const step of plan) {
          const result = Effect.runSync(env.step(step.action))
          if (!result.info.actionValid) throw new Error(`${task.id}: expert action ${step.action} rejected`)
          won = result.info.won
        }
        if (won) wins++
      }
      expect(`${type} ${size}: ${wins}`).toBe(`${type} ${size}: ${size === "small" ? 1000 : 300}`)
      expect(longest).toBeLessThanOrEqual(household.maxSteps)
    }
  })

  test("the expert also solves the full-size worlds and the test split", () => {
    const tasks = [
      ...householdTasks("test", { seed: 3, count: 120, options: { ...level3, size: "full" } }),
      ...householdTasks("test", { seed: 4, count: 120 }),
      ...householdTasks("test", { seed: 4, count: 120, options: { difficulty: "2" } }),
    ]
    for (const task of tasks) expect(Effect.runSync(runScript(household, task, householdExpertPlan(task))).won).toBe(true)
  })

  test("random play mostly fails at level 3", () => {
    const rng = new Rng(77)
    const tasks = householdTasks("test", { seed: 0, count: 300, options: level3 })
    let wins = 0
    for (const task of tasks) {
      const env = new HouseholdEnvironment(task, settings)
      let admissible = Effect.runSync(env.reset({ seed: 0 })).info.admissibleActions!
      for (;;) {
        const result = Effect.runSync(env.step(rng.pick(admissible)))
        if (result.terminated || result.truncated) {
          if (result.info.won) wins++
          break
        }
        admissible = result.info.admissibleActions!
      }
    }
    expect(wins / tasks.length).toBeLessThan(0.2)
  })
})

describe("household reference critic", () => {
  const expectations: Record<string, RegExp> = {
    "stop-early": /^(Missing|Wrong)/,
    "skip-transform": /^(Missing: you never (cleaned|heated|cooled)|Wrong order)/,
    "wrong-transform": /^(Wrong step|Wrong order)/,
    "wrong-object": /^Wrong object: you took the \w+ \d+, not a \w+\./,
    "wrong-place": /^Wrong place/,
    "one-of-two": /^Missing: a second \w+/,
    "light-without-object": /^(Wrong order: you used the desklamp|Missing: you never took)/,
    wander: /^(Missing|Wrong)/,
  }

  test("names the first missing or wrong subgoal of each corrupted attempt, then one to three tips", () => {
    const rng = new Rng(3)
    for (const task of [...householdTasks("train", { seed: 21, count: 240, options: level3 }), ...householdTasks("train", { seed: 21, count: 120, options: { difficulty: "2" } })]) {
      for (const corruption of corruptionsFor(householdLayout(task))) {
        const steps = corruptedPlan(task, corruption, rng)
        const critique = householdCritique(task, steps.map((s) => s.action))
        expect(critique).toMatch(expectations[corruption]!)
        expect(critique).toMatch(/^[^<]+\. <critic>Tip 1: [^<]+(Tip 2: [^<]+)?(Tip 3: [^<]+)?<\/critic>$/)
        expect(new TextEncoder().encode(critique).length).toBeLessThanOrEqual(household.maxTokens.critic - 3)
      }
      expect(householdCritique(task, householdExpertPlan(task).map((s) => s.action))).toBe(
        "Correct: the task is complete. <critic>Tip 1: Do the same again.</critic>",
      )
    }
  })

  test("hand-checked critiques", () => {
    const task = householdTaskFromId("household/small/clean/1234")!
    const layout = householdLayout(task)
    const plan = householdExpertPlan(task).map((s) => s.action)
    const takeIndex = plan.findIndex((a) => a.startsWith("take "))
    const sink = layout.receptacles.find((r) => r.kind === "sinkbasin")!.name
    const taken = plan[takeIndex]!.replace(/^take /, "").replace(/ from /, " from the ")
    const target = plan.at(-1)!.replace(/^move .* to /, "")
    const p = /^(cabinet|drawer|fridge|microwave|safe|sinkbasin|coffeemachine|garbagecan|bathtubbasin|laundryhamper)/.test(target) ? "in" : "on"
    const tips = `<critic>Tip 1: Take the ${taken}. Tip 2: Clean it with the ${sink}. Tip 3: Put it ${p} the ${target}.</critic>`
    expect(householdCritique(task, plan.slice(0, takeIndex + 1), Number.POSITIVE_INFINITY)).toBe(`Missing: you never cleaned the ${layout.goalObject}. ${tips}`)
    expect(householdCritique(task, [])).toMatch(new RegExp(`^Missing: you never took a ${layout.goalObject}; the ${layout.goalObject} \\d+ is (in|on) the \\w+ \\d+\\. <critic>Tip 1: Take the `))
  })

  test("the package critic reads the trajectory's actions", () => {
    const task = taskFor("cool", 8)
    const trajectory = Effect.runSync(runScript(household, task, householdExpertPlan(task).slice(0, 1)))
    expect(household.referenceCritique!(task, trajectory)).toBe(householdCritique(task, trajectory.turns.map((t) => t.action)))
  })
})

describe("household package", () => {
  test("declares its bounds and compact budgets", () => {
    expect(household.name).toBe("household")
    expect(household.kind).toBe("multi-turn")
    expect(household.maxSteps).toBe(30)
    expect(household.rewardRange).toEqual([0, 1])
    expect(household.maxTokens.solver).toBeLessThanOrEqual(96)
    const plain = household.make(taskFor("pick", 0))
    Effect.runSync(plain.reset({ seed: 0 }))
    expect(Effect.runSync(plain.step("fly"))).toMatchObject({ reward: 0, info: { actionValid: false } })
    const strict = makeHouseholdPackage({ projection: { invalid_action_penalty: 0.1, history_length: 1 } })
    expect(strict.rewardRange).toEqual([-0.1, 1])
    const env = strict.make(taskFor("pick", 0))
    Effect.runSync(env.reset({ seed: 0 }))
    expect(Effect.runSync(env.step("fly")).reward).toBe(-0.1)
    expect(() => makeHouseholdPackage({ projection: { history_length: -2 } })).toThrow(/history_length/)
  })

  test("expert completions fit the solver budget", () => {
    for (const task of householdTasks("train", { seed: 6, count: 300 })) {
      for (const turn of Effect.runSync(runScript(household, task, householdExpertPlan(task))).turns) {
        expect(new TextEncoder().encode(turn.completion).length).toBeLessThanOrEqual(household.maxTokens.solver)
      }
    }
  })
})
