/**
 * Environment throughput: steps per second of `household` and `shop` under a random policy
 * (admissible actions, some malformed ones; shop searches use real queries), measured on one
 * thread, median of several rounds: through the Environment contract (Effects), and through the
 * environments' synchronous core for comparison. Prints one JSON object.
 *
 *   bun run bench envs [--seconds S] [--rounds N]
 */
import { median, Rng, type Environment, type EnvironmentPackage, type EpisodeError, type Task } from "@icrl/core"
import {
  household,
  HouseholdEnvironment,
  searchCatalog,
  shop,
  shopCatalog,
  ShopEnvironment,
  type ShopTask,
} from "@icrl/envs-agentic"
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { defaulted, PositiveCount, PositiveNumber } from "../flags.ts"

interface Round {
  readonly stepsPerSecond: number
  readonly steps: number
  readonly episodes: number
  readonly searches: number
}

/** Picks the next action of the random policy. */
type Chooser<T> = (rng: Rng, admissible: ReadonlyArray<string>, task: T) => string

/** Counts of one measured stretch of episodes. */
interface Tally {
  steps: number
  searches: number
}

/** The random policy's next action, counted. */
const nextAction = <T>(choose: Chooser<T>, rng: Rng, admissible: ReadonlyArray<string>, task: T, tally: Tally): string => {
  const action = choose(rng, admissible, task)
  if (action.startsWith("search[") && action.length > 8) tally.searches++
  tally.steps++
  return action
}

/** Plays one episode of the task at an index, counting its steps. */
type Play = (i: number, rng: Rng, tally: Tally) => Effect.Effect<void, EpisodeError>

/** Episodes on random tasks for `budgetMs`. */
const measure = (taskCount: number, budgetMs: number, play: Play): Effect.Effect<Round, EpisodeError> =>
  Effect.gen(function* () {
    const rng = new Rng(1234)
    const tally: Tally = { steps: 0, searches: 0 }
    let episodes = 0
    const start = performance.now()
    let now = start
    while (now - start < budgetMs) {
      for (let k = 0; k < 20; k++) {
        yield* play(rng.int(taskCount), rng, tally)
        episodes++
      }
      now = performance.now()
    }
    return { stepsPerSecond: (tally.steps * 1000) / (now - start), steps: tally.steps, episodes, searches: tally.searches }
  })

/** Episodes through the Environment contract: an Effect per reset and per step. */
const throughContract = <T extends Task>(pkg: EnvironmentPackage<T>, tasks: ReadonlyArray<T>, choose: Chooser<T>): Play => {
  const envs: Array<Environment> = tasks.map((t) => pkg.make(t))
  return (i, rng, tally) =>
    Effect.gen(function* () {
      let admissible = (yield* envs[i]!.reset({ seed: 0 })).info.admissibleActions ?? []
      for (;;) {
        const result = yield* envs[i]!.step(nextAction(choose, rng, admissible, tasks[i]!, tally))
        if (result.terminated || result.truncated) return
        admissible = result.info.admissibleActions ?? []
      }
    })
}

/** The same episodes through the environments' synchronous `restart` / `advance` (the fast path the contract runs), one Effect per episode. */
const throughCore = <T extends Task>(pkg: EnvironmentPackage<T>, tasks: ReadonlyArray<T>, choose: Chooser<T>): Play => {
  const envs = tasks.map((t) => {
    const env = pkg.make(t)
    if (env instanceof HouseholdEnvironment || env instanceof ShopEnvironment) return env
    throw new Error(`${pkg.name} made an environment without a synchronous core`)
  })
  return (i, rng, tally) =>
    Effect.sync(() => {
      let admissible = envs[i]!.restart().info.admissibleActions ?? []
      for (;;) {
        const result = envs[i]!.advance(nextAction(choose, rng, admissible, tasks[i]!, tally))
        if (result.terminated || result.truncated) return
        admissible = result.info.admissibleActions ?? []
      }
    })
}

const malformed = ["", "go to", "take everything", "<action>look</action>", "click[nothing]", "search[]"]

/** Measures and prints the JSON report. */
const measureAll = (seconds: number, rounds: number) =>
  Effect.gen(function* () {
    const taskCount = 120
    const householdTasks = yield* household.tasks("train", { seed: 0, count: taskCount, options: { difficulty: "3" } })
    const shopTasks = yield* shop.tasks("train", { seed: 0, count: taskCount, options: { difficulty: "3" } })
    shopCatalog(0)

    const householdAction = (rng: Rng, admissible: ReadonlyArray<string>): string =>
      rng.chance(0.1) || admissible.length === 0 ? rng.pick(malformed) : rng.pick(admissible)

    const shopAction = (rng: Rng, admissible: ReadonlyArray<string>, task: ShopTask): string => {
      if (rng.chance(0.1) || admissible.length === 0) return rng.pick(malformed)
      const action = rng.pick(admissible)
      if (action !== "search[<query>]") return action
      // A real query: the task's own words, sometimes a shorter or a different one.
      const words = task.query.split(" ")
      return `search[${rng.chance(0.5) ? task.query : words.slice(rng.int(words.length)).join(" ")}]`
    }

    const paths = {
      household: throughContract(household, householdTasks, householdAction),
      householdSync: throughCore(household, householdTasks, householdAction),
      shop: throughContract(shop, shopTasks, shopAction),
      shopSync: throughCore(shop, shopTasks, shopAction),
    }

    const results = {
      household: [] as Array<Round>,
      shop: [] as Array<Round>,
      householdSync: [] as Array<Round>,
      shopSync: [] as Array<Round>,
      search: [] as Array<number>,
    }
    for (const play of Object.values(paths)) yield* measure(taskCount, 200, play)
    // The two paths alternate, so both see the same machine load.
    for (let r = 0; r < rounds; r++) {
      for (const [name, play] of Object.entries(paths)) results[name as keyof typeof paths].push(yield* measure(taskCount, seconds * 1000, play))
      const catalog = shopCatalog(0)
      let n = 0
      const start = performance.now()
      while (performance.now() - start < seconds * 500) {
        for (const task of shopTasks) searchCatalog(catalog, task.query)
        n += shopTasks.length
      }
      results.search.push((n * 1000) / (performance.now() - start))
    }

    const summary = (rs: ReadonlyArray<Round>) => ({
      stepsPerSecond: Math.round(median(rs.map((r) => r.stepsPerSecond))),
      rounds: rs.map((r) => Math.round(r.stepsPerSecond)),
      stepsPerEpisode: Math.round((10 * rs.reduce((s, r) => s + r.steps, 0)) / rs.reduce((s, r) => s + r.episodes, 0)) / 10,
    })
    /** The synchronous core's median, and the median of the per-round ratios contract / core (rounds ran back to back). */
    const againstCore = (contract: ReadonlyArray<Round>, core: ReadonlyArray<Round>) => ({
      synchronousStepsPerSecond: Math.round(median(core.map((r) => r.stepsPerSecond))),
      contractToSynchronous: Math.round(1000 * median(contract.map((r, i) => r.stepsPerSecond / core[i]!.stepsPerSecond))) / 1000,
    })
    const searchFraction = (rs: ReadonlyArray<Round>) =>
      Math.round((1000 * rs.reduce((s, r) => s + r.searches, 0)) / rs.reduce((s, r) => s + r.steps, 0)) / 1000

    console.log(
      JSON.stringify(
        {
          benchmark: "envs",
          secondsPerRound: seconds,
          household: { ...summary(results.household), ...againstCore(results.household, results.householdSync), target: 20000 },
          shop: {
            ...summary(results.shop),
            ...againstCore(results.shop, results.shopSync),
            searchFraction: searchFraction(results.shop),
            target: 5000,
            catalogProducts: shopCatalog(0).products.length,
          },
          shopSearchOnly: { searchesPerSecond: Math.round(median(results.search)) },
        },
        null,
        2,
      ),
    )
  })

/** `bun run bench envs [--seconds S] [--rounds N]`. */
export const command = Command.make(
  "envs",
  {
    seconds: defaulted(Flag.Finite("seconds").pipe(Flag.withSchema(PositiveNumber)), 1, "seconds per measured round"),
    rounds: defaulted(Flag.Int("rounds").pipe(Flag.withSchema(PositiveCount)), 3, "rounds (the median is reported)"),
  },
  (f) => measureAll(f.seconds, f.rounds),
).pipe(Command.withDescription("environment steps per second"))
