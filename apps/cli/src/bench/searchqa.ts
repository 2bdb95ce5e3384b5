/**
 * searchqa throughput: searches per second over the generated corpus, measured on one thread,
 * median of several rounds. Three measures: the BM25 index alone on the expert's queries, the
 * index on whole question texts (longer queries, as a model might send), and full environment
 * steps `search[...]` (ranking plus the rendered passages, through the environment's synchronous core).
 * Prints one JSON object.
 *
 *   bun run bench searchqa [--seconds S] [--rounds N]
 */
import {
  buildSearchQaWorld,
  SearchQaEnvironment,
  type SearchQaSettings,
  searchQaTasks,
  searchQaWorld,
} from "@icrl/envs-agentic"
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { defaulted, PositiveCount, PositiveNumber } from "../flags.ts"
import { median } from "@icrl/core"


/** Measures and prints the JSON report. */
const measureAll = (seconds: number, rounds: number): void => {
  const buildStart = performance.now()
  buildSearchQaWorld(0)
  const buildMs = performance.now() - buildStart
  const world = searchQaWorld(0)
  const tasks = searchQaTasks("train", { seed: 0, count: 500, options: { difficulty: "3" } })
  const expertQueries = tasks.flatMap((t) => t.hops.map((h) => h.query))
  const questionQueries = tasks.map((t) => t.text)
  const settings: SearchQaSettings = { maxSearches: 4, topK: 3, passageChars: 160, maxSteps: 5, repeatLimit: 3, invalidActionPenalty: 0.1 }

  /** Calls `body` on each query in turn until the time budget is spent; returns calls per second. */
  const rate = (queries: ReadonlyArray<string>, body: (query: string, i: number) => void, budgetMs: number): number => {
    let n = 0
    const start = performance.now()
    let now = start
    while (now - start < budgetMs) {
      for (let i = 0; i < queries.length; i++) body(queries[i]!, n + i)
      n += queries.length
      now = performance.now()
    }
    return (n * 1000) / (now - start)
  }

  let sink = 0
  const indexOnly = (query: string) => {
    sink += world.index.search(query, settings.topK).length
  }
  const envs = tasks.map((t) => new SearchQaEnvironment(t, settings))
  const actions = expertQueries.map((q) => `search[${q}]`)
  let refused = 0
  const envStep = (action: string, i: number) => {
    // Each episode makes its four searches in a row, then the next environment is reset.
    const env = envs[Math.floor(i / settings.maxSearches) % envs.length]!
    if (i % settings.maxSearches === 0) env.restart()
    const result = env.advance(action)
    if (!result.info.actionValid) refused++
    sink += result.observation.length
  }

  const results = { expert: [] as Array<number>, question: [] as Array<number>, env: [] as Array<number> }
  rate(expertQueries, indexOnly, 200)
  rate(actions, envStep, 200)
  for (let r = 0; r < rounds; r++) {
    results.expert.push(rate(expertQueries, indexOnly, seconds * 1000))
    results.question.push(rate(questionQueries, indexOnly, seconds * 1000))
    results.env.push(rate(actions, envStep, seconds * 1000))
  }

  const summary = (xs: ReadonlyArray<number>) => ({ searchesPerSecond: Math.round(median(xs)), rounds: xs.map(Math.round) })

  console.log(
    JSON.stringify(
      {
        benchmark: "searchqa",
        secondsPerRound: seconds,
        corpus: { documents: world.docs.length, vocabulary: world.index.vocabularySize, buildMs: Math.round(buildMs) },
        topK: settings.topK,
        target: 5000,
        indexExpertQueries: summary(results.expert),
        indexQuestionQueries: summary(results.question),
        environmentSearchSteps: summary(results.env),
        refusedSearches: refused,
        checksum: sink % 997,
      },
      null,
      2,
    ),
  )
}

/** `bun run bench searchqa [--seconds S] [--rounds N]`. */
export const command = Command.make(
  "searchqa",
  {
    seconds: defaulted(Flag.Finite("seconds").pipe(Flag.withSchema(PositiveNumber)), 1, "seconds per measured round"),
    rounds: defaulted(Flag.Int("rounds").pipe(Flag.withSchema(PositiveCount)), 3, "rounds (the median is reported)"),
  },
  (f) => Effect.sync(() => measureAll(f.seconds, f.rounds)),
).pipe(Command.withDescription("searches per second over the generated corpus"))
