import { checkTrainingDefaults, defaultAlgorithmConfig, EnvironmentRegistry, trySync } from "@icrl/core"
import { checkpointExists } from "@icrl/trainer"
import { Console, Effect, Option, Stdio } from "effect"
import { Command, Flag } from "effect/cli"
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { cpus } from "node:os"
import { join, relative, resolve } from "node:path"
import { runCli, stopChildren } from "../compare/child.ts"
import { runJobs, type JobOutcome } from "../compare/jobs.ts"
import { backendsOf, machineInfo } from "../compare/machine.ts"
import { checkManifest, manifestOf, writeManifest } from "../compare/manifest.ts"
import {
  budgetDescription,
  freshTrainArgs,
  initCheckpoint,
  parseAlgos,
  planRuns,
  PlanError,
  resumeTrainArgs,
  type BudgetMode,
  type CompareSettings,
  type PlannedRun,
  type VariantName,
  variantNames,
  warmstartOf,
} from "../compare/plan.ts"
import { pairedLines, renderHtml, renderMarkdown, resultsMarkdown, summarizeVariants, type ComparedRun, type ReportInput } from "../compare/report.ts"
import { isRunComplete, meanEvalPoint, readRun, type RunData } from "../compare/runData.ts"
import { algorithmConfigOf, algorithmFlags, knobArgs } from "../algorithmFlags.ts"
import { ExitCode } from "../edge.ts"
import { checkEnvOptions, envFlag, envOptionArgs, envOptionFlags, envOptionsOf, loadForFlag } from "../envOptions.ts"
import { defaulted, FlagError, optional, PositiveCount, toggle } from "../flags.ts"
import { backendFlag, presetFlag } from "../modelFlags.ts"
import { passedSettingFlags, runFileFlags, settingArgs } from "../runFlags.ts"

/** The knobs every run shares (each run's algorithm, seed and steps are the comparison's to set). */
const { algorithm: _algorithm, seed: _seed, total_steps: _steps, ...sharedKnobFlags } = algorithmFlags

const flags = {
  env: envFlag,
  algos: defaulted(Flag.String("algos"), "icrl,grpo", `algorithms: ${variantNames.join(", ")}`),
  seeds: defaulted(Flag.Int("seeds").pipe(Flag.withSchema(PositiveCount)), 3, "seeds per algorithm (0..N-1)"),
  steps: optional(Flag.Int("steps").pipe(Flag.withSchema(PositiveCount)), "RL steps per run (tokens budget: of the icrl reference run); default the train default"),
  budget: optional(Flag.Literals("budget", ["steps", "tokens"]), "hold RL steps or generated tokens equal (default steps)"),
  tokenBudget: optional(Flag.Int("token-budget").pipe(Flag.withSchema(PositiveCount)), "generated tokens per run (implies --budget tokens; default: what icrl generated)"),
  maxSteps: optional(Flag.Int("max-steps").pipe(Flag.withSchema(PositiveCount)), "step cap of token-budget runs (default 10x --steps)"),
  jobs: defaulted(Flag.Int("jobs").pipe(Flag.withSchema(PositiveCount)), 1, "runs in parallel (each its own process)"),
  out: optional(Flag.String("out"), "comparison directory (default runs/compare-<env>-<preset>[-tokens])"),
  init: optional(Flag.String("init"), "start every run from this checkpoint instead of one shared warm start"),
  warmstartSeed: defaulted(Flag.Int("warmstart-seed"), 0, "seed of the shared warm start"),
  varyWarmstart: toggle("vary-warmstart", "one warm start per seed (warm-start seed = RL seed), so intervals include warm-start variance"),
  preset: presetFlag,
  backend: backendFlag,
  threads: optional(Flag.Int("threads").pipe(Flag.withSchema(PositiveCount)), "BLAS threads per run (default cores / jobs)"),
  reportOnly: toggle("report-only", "write the report from the runs present, run nothing"),
  // `train` flags passed on unchanged to every run.
  envOptions: envOptionFlags,
  knobs: sharedKnobFlags,
  settings: passedSettingFlags,
  files: runFileFlags,
}

/** Quotes an argument for a POSIX shell when it needs it. */
export const shellQuote = (arg: string): string => (/^[A-Za-z0-9_./,=:@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)

const duration = (sec: number): string => {
  const s = Math.max(0, Math.round(sec))
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
}

type RunState = { readonly kind: "complete"; readonly data: RunData } | { readonly kind: "resume" } | { readonly kind: "fresh" }

/** Where a run stands: complete (skip), resumable from its latest checkpoint, or to start afresh. */
const inspect = (run: PlannedRun): RunState => {
  const data = readRun(run.dir)
  if (data === undefined) return { kind: "fresh" }
  if (isRunComplete(data)) return { kind: "complete", data }
  return checkpointExists(join(run.dir, "checkpoints", "latest")) ? { kind: "resume" } : { kind: "fresh" }
}

/** Lines of a child's progress worth echoing (evaluations, errors, every 5th step). */
const echoWorthy = (line: string): boolean => {
  if (/^(eval @|error|token budget|resuming|warm start done|warm start reused)/.test(line)) return true
  const step = /^step \[[#.]*\] (\d+)\/(\d+)/.exec(line)
  return step !== null && (Number(step[1]) % 5 === 0 || step[1] === step[2])
}

/**
 * `bun run compare --env NAME --algos icrl,grpo --seeds 3`: every (algorithm, seed) run as its own
 * `train` process from one shared warm start with the same budget, resumable, then a report
 * (report.html, report.md, summary.json) and the results table on the terminal.
 */
export const command = Command.make("compare", flags, (values) =>
  Effect.gen(function* () {
    const planned = <A>(f: () => A) => trySync(f, [PlanError]).pipe(Effect.mapError((error) => new FlagError({ flag: error.flag, detail: error.detail })))
    const algos = yield* planned(() => parseAlgos(values.algos))
    const tokenBudget = Option.getOrUndefined(values.tokenBudget)
    if (tokenBudget !== undefined && Option.getOrUndefined(values.budget) === "steps") {
      return yield* new FlagError({ flag: "token-budget", detail: "a token budget needs --budget tokens" })
    }
    const budget: BudgetMode = tokenBudget !== undefined ? "tokens" : Option.getOrElse(values.budget, () => "steps" as const)
    if (Option.isSome(values.maxSteps) && budget === "steps") return yield* new FlagError({ flag: "max-steps", detail: "applies to --budget tokens only" })
    if (values.varyWarmstart && Option.isSome(values.init)) {
      return yield* new FlagError({ flag: "vary-warmstart", detail: "every run starts from --init; there is no warm start to vary" })
    }
    const env = yield* loadForFlag(values.env)
    const envOptions = yield* envOptionsOf(values.envOptions)
    yield* checkEnvOptions(env, envOptions)

    // Validate the shared knobs now (as train would), so a bad value fails before any run starts.
    yield* checkTrainingDefaults(env.trainingDefaults)
    const envKnobs = env.trainingDefaults?.knobs
    const { config: shared, fromFile } = yield* algorithmConfigOf(values.knobs, values.files.config, envKnobs)
    const steps = Option.getOrElse(values.steps, () =>
      typeof fromFile["total_steps"] === "number" ? shared.total_steps : (envKnobs?.total_steps ?? defaultAlgorithmConfig.total_steps),
    )
    if (steps < 1) return yield* new FlagError({ flag: "steps", detail: "needs at least one RL step" })

    // Shared train flags, in a stable order (the manifest compares them).
    const trainArgs = ["--preset", values.preset, ...envOptionArgs(values.envOptions), ...knobArgs(values.knobs), ...settingArgs(values.settings, values.files)]
    const root = (yield* EnvironmentRegistry).root
    const out = resolve(Option.getOrElse(values.out, () => join(root, "runs", `compare-${env.name}-${values.preset}${budget === "tokens" ? "-tokens" : ""}`)))
    const settings: CompareSettings = {
      env: env.name,
      algos,
      seeds: Array.from({ length: values.seeds }, (_, i) => i),
      steps,
      budget,
      ...(tokenBudget === undefined ? {} : { tokenBudget }),
      maxSteps: Option.getOrElse(values.maxSteps, () => 10 * steps),
      warmstartSeed: values.warmstartSeed,
      varyWarmstart: values.varyWarmstart,
      ...Option.match(values.init, { onNone: () => ({}), onSome: (init) => ({ init: resolve(init) }) }),
      trainArgs,
      out,
    }
    if (settings.init !== undefined && !checkpointExists(settings.init)) {
      return yield* new FlagError({ flag: "init", detail: `no checkpoint at ${settings.init}` })
    }
    const command = `bun run ${(yield* (yield* Stdio.Stdio).args).map(shellQuote).join(" ")}`
    const manifest = manifestOf(settings, command)
    yield* planned(() => checkManifest(out, manifest))
    mkdirSync(out, { recursive: true })
    writeManifest(out, manifest)

    const jobs = values.jobs
    const threads = Option.getOrElse(values.threads, () => Math.max(1, Math.floor(cpus().length / jobs)))
    const processArgs = ["--backend", String(values.backend), "--threads", String(threads)]
    const plan = planRuns(settings)
    const byId = new Map(plan.map((r) => [r.id, r]))
    const logPath = (r: PlannedRun) => join(out, "logs", `${r.id}.log`)
    const initial = new Map(plan.map((r) => [r.id, inspect(r)]))
    const toRun = plan.filter((r) => initial.get(r.id)!.kind !== "complete")
    const shown = (p: string) => {
      const r = relative(process.cwd(), p)
      return r === "" ? "." : r.startsWith("..") ? p : r
    }
    yield* Console.error(`compare: ${env.name}, ${algos.join(" vs ")}, seeds ${settings.seeds.join(",")}; ${budgetDescription(settings)}`)
    yield* Console.error(
      `compare: ${plan.length} runs in ${shown(out)}: ${plan.length - toRun.length} complete, ` +
        `${toRun.filter((r) => initial.get(r.id)!.kind === "resume").length} to resume, ${toRun.filter((r) => initial.get(r.id)!.kind === "fresh").length} to start` +
        (values.reportOnly ? " (report only: nothing runs)" : `; ${jobs} at a time, ${threads} BLAS thread${threads === 1 ? "" : "s"} each`),
    )

    const outcomes = new Map<string, JobOutcome<"skipped" | "ran">>()
    if (!values.reportOnly && toRun.length > 0) yield* Effect.promise(async () => {
      const onSignal = (signal: NodeJS.Signals) => {
        stopChildren(signal)
        console.error(`\ncompare: interrupted; run the same command again to continue where it stopped`)
        process.exit(130)
      }
      process.on("SIGINT", onSignal)
      process.on("SIGTERM", onSignal)
      const started = performance.now()
      let finished = 0
      try {
        const results = await runJobs(
          plan.map((r) => ({
            id: r.id,
            dependsOn: r.dependsOn,
            run: async (): Promise<"skipped" | "ran"> => {
              const state = inspect(r)
              if (state.kind === "complete") return "skipped"
              let args: Array<string>
              if (state.kind === "resume") args = resumeTrainArgs(r)
              else {
                if (existsSync(r.dir)) rmSync(r.dir, { recursive: true, force: true })
                const reference = r.budget.kind === "tokens-of" ? readRun(byId.get(r.budget.reference)!.dir)?.generatedTokens : undefined
                args = freshTrainArgs(settings, r, reference)
              }
              console.error(`[${r.id}] ${state.kind === "resume" ? "resuming" : "starting"} (log ${shown(logPath(r))})`)
              const child = await runCli([...args, ...processArgs], {
                logPath: logPath(r),
                onLine: (line) => {
                  if (echoWorthy(line)) console.error(`[${r.id}] ${line}`)
                },
              })
              if (child.exitCode !== 0) throw new Error(`exit ${child.exitCode}: ${child.lastError}`)
              const data = readRun(r.dir)
              if (data === undefined || !isRunComplete(data)) throw new Error("train exited without its final evaluation")
              finished++
              console.error(`[${r.id}] done in ${duration(child.seconds)} (${finished}/${toRun.length}, ${duration((performance.now() - started) / 1000)} elapsed)`)
              return "ran"
            },
          })),
          jobs,
          (o) => {
            if (o.status === "failed") console.error(`[${o.id}] failed: ${o.error} (log ${shown(logPath(byId.get(o.id)!))})`)
            if (o.status === "blocked") console.error(`[${o.id}] not started: ${o.by} did not complete`)
          },
        )
        for (const [id, o] of results) outcomes.set(id, o)
      } finally {
        process.off("SIGINT", onSignal)
        process.off("SIGTERM", onSignal)
      }
    })

    // The report, from what is on disk.
    const compared: Array<ComparedRun> = plan
      .filter((r): r is PlannedRun & { variant: VariantName } => r.variant !== "warmstart")
      .map((r) => {
        let data: RunData | undefined
        let note: string | undefined
        try {
          data = readRun(r.dir)
        } catch (error) {
          note = error instanceof Error ? error.message : String(error)
        }
        const o = outcomes.get(r.id)
        if (o?.status === "failed") note = o.error
        if (o?.status === "blocked") note = `${o.by} did not complete`
        const status: ComparedRun["status"] =
          data !== undefined && isRunComplete(data) ? "complete" : o?.status === "failed" ? "failed" : o?.status === "blocked" ? "blocked" : "incomplete"
        return { id: r.id, variant: r.variant, seed: r.seed, status, ...(note === undefined ? {} : { note }), ...(data === undefined ? {} : { data }) }
      })
    const warmIds = [...new Set(settings.seeds.map((seed) => warmstartOf(settings, seed)))]
    const warms = settings.init === undefined ? warmIds.map((id) => readRun(join(out, id))).filter((r): r is RunData => r !== undefined) : []
    const start =
      warms.length > 0
        ? meanEvalPoint(warms.flatMap((w) => (w.evals[0] === undefined ? [] : [w.evals[0]])))
        : compared.find((r) => r.data?.evals[0]?.step === 0)?.data?.evals[0]
    const warmSteps = warms[0]?.config.settings.warmstartSteps
    const supervised = warmSteps === undefined ? "" : `${warmSteps} supervised steps, `
    const startDescription =
      settings.init !== undefined
        ? `every run starts from the given checkpoint ${settings.init}`
        : settings.varyWarmstart === true
          ? `one warm start per seed (${supervised}warm-start seed = RL seed): every run of seed s starts from warmstart-s<s>/checkpoints/step-000000, ` +
            `so the intervals include the warm start's variance and paired differences compare runs from the same warm start (the start row is their mean)`
          : `one warm start (${supervised}seed ${settings.warmstartSeed}), done once and shared: ` +
            `every run starts from ${relative(out, initCheckpoint(settings, settings.warmstartSeed))} in the comparison directory, so runs differ only in their RL algorithm and seed`
    const logs = plan.map((r) => (existsSync(logPath(r)) ? readFileSync(logPath(r), "utf8") : "")).join("\n")
    const input: ReportInput = {
      title: `ICRL comparison on ${env.name}: ${algos.join(" vs ")}`,
      env: env.name,
      envOptions,
      algos,
      seeds: settings.seeds,
      runs: compared,
      ...(start === undefined ? {} : { start }),
      startDescription,
      ...(warms.length > 1 ? { startLabel: `start (mean of ${warms.length} warm starts)` } : {}),
      budget: budgetDescription(settings),
      xAxis: budget === "tokens" ? "tokens" : "step",
      machine: machineInfo(),
      backends: backendsOf(logs),
      command,
      generatedAt: new Date().toISOString(),
    }
    const summaries = summarizeVariants(input)
    writeFileSync(join(out, "report.md"), renderMarkdown(input))
    writeFileSync(join(out, "report.html"), renderHtml(input))
    writeFileSync(
      join(out, "summary.json"),
      `${JSON.stringify({ ...input, runs: compared.map(({ data: _data, ...r }) => r), summaries }, null, 2)}\n`,
    )
    yield* Console.log(resultsMarkdown(input, summaries))
    const paired = pairedLines(input)
    if (paired.length > 0) yield* Console.log(`\n${paired.join("\n")}`)
    const incomplete = compared.filter((r) => r.status !== "complete")
    if (incomplete.length > 0) yield* Console.log(`\nnot complete: ${incomplete.map((r) => `${r.id} (${r.status}${r.note === undefined ? "" : `: ${r.note}`})`).join(", ")}`)
    yield* Console.log(`\nreport: ${shown(join(out, "report.html"))} and ${shown(join(out, "report.md"))}`)
    yield* Console.log(`reproduce: ${command}`)
    if (incomplete.length > 0) return yield* new ExitCode({ code: 1 })
  }),
).pipe(Command.withDescription("Compare ICRL, GRPO and ablations across seeds and write a report"))
