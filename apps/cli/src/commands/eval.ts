import { evaluate, flatEvalMetrics, type CriticSource, type EvalMetrics } from "@icrl/core"
import { backendNames, ByteTokenizer, loadModel, LocalPolicy, selectBackend, type BackendName } from "@icrl/trainer"
import { Effect } from "effect"
import { checkEnvOptions, envFlags, envOptionsOf, loadForFlag } from "../envOptions.ts"
import { FlagError, flagHelp, parseFlags, type FlagSpec } from "../flags.ts"

const flags = {
  ...envFlags,
  checkpoint: { type: "string", description: "checkpoint directory of the solver (e.g. runs/x/checkpoints/latest)" },
  critic: { type: "string", description: "critic: a checkpoint directory, or `reference` for the env's reference critic (default: the solver's checkpoint)" },
  tasks: { type: "number", integer: true, min: 1, default: 200, description: "held-out tasks" },
  "eval-seed": { type: "number", integer: true, default: 0, description: "seed of the held-out task sample" },
  "pass-k": { type: "number", integer: true, min: 0, default: 4, description: "samples per task for pass@k (0 or 1: skip)" },
  backend: { type: "string", choices: backendNames, default: "auto", description: "TensorFlow.js backend" },
  json: { type: "boolean", default: false, description: "print one JSON object" },
  help: { type: "boolean", default: false, description: "show this help" },
} as const satisfies Record<string, FlagSpec>

const pct = (x: number) => `${(100 * x).toFixed(1)}%`

/** A two-column table of evaluation metrics. */
export const evalTable = (m: EvalMetrics): string =>
  [
    "| metric | value |",
    "|---|---|",
    `| tasks | ${m.tasks} |`,
    `| critique-free accuracy | ${pct(m.critiqueFreeAccuracy)} [${pct(m.critiqueFreeInterval.low)}, ${pct(m.critiqueFreeInterval.high)}] |`,
    `| critique-assisted accuracy | ${pct(m.critiqueAssistedAccuracy)} [${pct(m.critiqueAssistedInterval.low)}, ${pct(m.critiqueAssistedInterval.high)}] |`,
    `| Δ i→c | ${pct(m.deltaIC)} |`,
    `| Δ c→i | ${pct(m.deltaCI)} |`,
    `| critic gain | ${m.criticGain.toFixed(3)} |`,
    `| critique tokens | ${m.critiqueTokens.toFixed(1)} |`,
    `| score | ${m.score.toFixed(3)} |`,
    ...Object.entries(m.passAtK).map(([k, v]) => `| ${k} | ${pct(v)} |`),
  ].join("\n")

/** `bun run eval --env NAME --checkpoint PATH [--critic PATH|reference] [--json]`. */
export const run = async (argv: ReadonlyArray<string>): Promise<number> => {
  const { values, positionals } = parseFlags(argv, flags)
  if (values.help) {
    console.log(`usage: bun run eval --env NAME --checkpoint DIR [flags]\n\n${flagHelp(flags)}`)
    return 0
  }
  if (positionals.length > 0) throw new FlagError({ flag: positionals[0]!, detail: "unexpected argument" })
  if (values.checkpoint === undefined) throw new FlagError({ flag: "checkpoint", detail: "is required" })
  const env = await loadForFlag(values.env)
  const envOptions = envOptionsOf(values)
  checkEnvOptions(env, envOptions)
  const backend = await selectBackend(values.backend as BackendName)
  console.error(`backend: ${backend.description}`)
  const tokenizer = new ByteTokenizer()
  const solverModel = (await loadModel(values.checkpoint)).model
  const solver = new LocalPolicy(solverModel, tokenizer, { name: values.checkpoint })
  let critic: CriticSource = { kind: "policy", policy: solver }
  if (values.critic === "reference") {
    if (env.referenceCritique === undefined) throw new FlagError({ flag: "critic", detail: `environment ${env.name} has no reference critic` })
    critic = { kind: "reference" }
  } else if (values.critic !== undefined) {
    critic = { kind: "policy", policy: new LocalPolicy((await loadModel(values.critic)).model, tokenizer, { name: values.critic }) }
  }
  const tasks = env.tasks("test", { seed: values["eval-seed"], count: values.tasks, options: envOptions })
  console.error(`evaluating ${tasks.length} held-out ${env.name} tasks`)
  const metrics = await Effect.runPromise(evaluate(env, solver, critic, tasks, { seed: values["eval-seed"], passK: values["pass-k"] }))
  if (values.json) console.log(JSON.stringify(flatEvalMetrics(metrics)))
  else console.log(evalTable(metrics))
  return 0
}
