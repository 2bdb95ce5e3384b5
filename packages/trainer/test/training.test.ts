import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { CheckpointError, ConfigError, DataError, decodeAlgorithmConfig, defaultTemplates, type EnvironmentPackage, type Task } from "@icrl/core"
import { Effect } from "effect"
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  ByteTokenizer,
  loadCheckpoint,
  loadModel,
  measureGradientNoise,
  runTraining,
  selectBackend,
  warmStartKey,
  type BackendNumerics,
  type RunEvent,
  type RunSettings,
} from "../src/index.ts"
import { unregisterBlasKernels } from "../src/blas/index.ts"

/** A one-step task: answer with the letter the task names ("say b" -> " b"). */
interface LetterTask extends Task {
  readonly letter: string
}
const letters = "abcdefgh"
/** The step (and the reward's verdict) of a letter task: right when the completion is the letter. */
const letterVerdict = (task: LetterTask, action: string) => {
  const won = action.trim() === task.letter
  return { observation: "", reward: won ? 1 : 0, terminated: true, truncated: false, score: won ? 1 : 0, won, info: { won, actionValid: true } }
}

const letterEnv: EnvironmentPackage<LetterTask> = {
  name: "letters",
  description: "say the letter",
  kind: "single-turn",
  rewardRange: [0, 1],
  maxSteps: 1,
  maxTokens: { solver: 4, critic: 6 },
  tasks: (split, { count, offset = 0 }) =>
    Effect.succeed(
      Array.from({ length: count }, (_, i) => {
        const k = i + offset
        const letter = letters[(k * 2 + (split === "test" ? 1 : 0)) % letters.length]!
        return { id: `${split}-${k}`, split, text: `say ${letter}`, letter }
      }),
    ),
  make: (task) => ({
    reset: () => Effect.succeed({ observation: task.text, info: { won: false, actionValid: true } }),
    step: (action) => Effect.sync(() => letterVerdict(task, action)),
  }),
  reward: {
    name: "letter",
    verify: (task, trajectory) => Effect.sync(() => letterVerdict(task, trajectory.turns[0]?.action ?? "")),
  },
  renderPrompt: ({ task, guidance }) =>
    guidance === undefined ? defaultTemplates.solver(task.text) : defaultTemplates.refine(task.text, guidance.attempt, guidance.critique),
  parseAction: (completion) => ({ action: completion, valid: true }),
  renderAttempt: (_task, trajectory) => trajectory.turns[0]?.completion ?? "",
  warmStart: ({ count }) =>
    Effect.succeed(
      Array.from({ length: count }, (_, i) => {
        const letter = letters[i % letters.length]!
        const wrong = letters[(i + 3) % letters.length]!
        return [
          { role: "solver" as const, prompt: defaultTemplates.solver(`say ${letter}`), completion: ` ${i % 3 === 0 ? wrong : letter}` },
          { role: "critic" as const, prompt: defaultTemplates.critic(`say ${letter}`, ` ${wrong}`), completion: ` say ${letter}` },
          { role: "refiner" as const, prompt: defaultTemplates.refine(`say ${letter}`, ` ${wrong}`, ` say ${letter}`), completion: ` ${letter}` },
        ]
      }).flat(),
    ),
}

const settings: RunSettings = {
  env: "letters",
  envOptions: {},
  preset: "tiny",
  evalEvery: 0,
  evalTasks: 8,
  evalSeed: 0,
  passK: 0,
  evalRounds: 3,
  checkpointEvery: 1,
  warmstartSteps: 20,
  warmstartBatchSize: 16,
  warmstartLr: 3e-3,
  tokenBudget: 0,
  sampleBatchSize: 64,
}
const algorithm = (input: Record<string, unknown>) =>
  Effect.runSync(decodeAlgorithmConfig({ rollout_n: 4, train_batch_size: 4, lr: 1e-3, ...input }))

const root = mkdtempSync(join(tmpdir(), "icrl-training-"))
beforeAll(async () => {
  await selectBackend("wasm")
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

const metrics = (dir: string) =>
  readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>)
/** A metrics line without the fields that time the run (they differ from run to run). */
const withoutTimes = (line: Record<string, unknown>) => {
  const { stepSec: _step, tokensPerSecond: _rate, elapsedSec: _elapsed, samplingSec: _sampling, updateSec: _update, syncSec: _sync, ...rest } = line
  return rest
}

const weights = (dir: string, step: string) => {
  const d = join(dir, "checkpoints", step)
  return readdirSync(d)
    .filter((f) => f.endsWith(".safetensors"))
    .sort()
    .map((f) => readFileSync(join(d, f)).toString("base64"))
}

describe("runTraining (smoke runs on the tiny preset)", () => {
  for (const algo of ["icrl", "grpo", "icrl-ungated"] as const) {
    test(`${algo}: warm start, RL steps, evals, checkpoints and metrics`, async () => {
      const out = join(root, `smoke-${algo}`)
      const result = await Effect.runPromise(runTraining({ env: letterEnv, algorithm: algorithm({ algorithm: algo, total_steps: 2 }), settings, out, cacheDir: join(root, "cache") }))
      expect(result.steps).toBe(2)
      const lines = metrics(out)
      expect(lines.filter((l) => l["kind"] === "train").map((l) => l["step"])).toEqual([1, 2])
      expect(lines.filter((l) => l["kind"] === "eval").map((l) => l["step"])).toEqual([0, 2])
      for (const l of lines.filter((l) => l["kind"] === "eval")) {
        for (const k of ["critiqueFreeAccuracy", "critiqueAssistedAccuracy", "deltaIC", "deltaCI", "criticGain", "critiqueTokens"])
          expect(Number.isFinite(l[k])).toBe(true)
        const within = l["successWithinRounds"] as Array<number>
        expect(within).toHaveLength(3)
        expect(within[0]).toBe(l["critiqueFreeAccuracy"] as number)
      }
      const train = lines.filter((l) => l["kind"] === "train")
      // grpo: one round; icrl: only the failed attempts are refined; icrl-ungated: all 16.
      const refined = (l: Record<string, unknown>) => (algo === "grpo" ? 0 : algo === "icrl" ? Math.round(16 * (1 - (l["critiqueFreeAccuracy"] as number))) : 16)
      for (const l of train) expect(l["refinements"]).toBe(refined(l))
      expect(readdirSync(join(out, "checkpoints")).sort()).toEqual(["latest", "step-000000", "step-000001", "step-000002"])
      expect(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).algorithm.algorithm).toBe(algo)
    })
  }

  test("critique-grpo with a frozen copy of the initial policy as the critic trains, and the critic's tokens are never trained", async () => {
    const out = join(root, "smoke-critique-grpo")
    const result = await Effect.runPromise(
      runTraining({
        env: letterEnv,
        algorithm: algorithm({ algorithm: "critique-grpo", critic_source: "frozen", total_steps: 2, critique_attempts: "all" }),
        settings,
        out,
        cacheDir: join(root, "cache"),
      }),
    )
    expect(result.steps).toBe(2)
    const train = metrics(out).filter((l) => l["kind"] === "train")
    for (const l of train) {
      expect(l["refinements"]).toBe(16)
      expect(l["critiqueTokens"] as number).toBeGreaterThan(0) // the frozen policy wrote them
      expect(l["transferred"]).toBe(16)
      expect(l["samples"]).toBe(32) // 16 attempts + 16 transferred refinements, no critic samples
    }
  })

  test("RL continues the warm start's second moments, its first moments at zero (cached with the warm start)", async () => {
    const cacheDir = join(root, "cache")
    const cached = readdirSync(cacheDir).find((d) => d.startsWith("warmstart-letters-"))!
    const warm = await loadCheckpoint(join(cacheDir, cached))
    const start = await loadCheckpoint(join(root, "smoke-icrl", "checkpoints", "step-000000"))
    expect(warm.optimizer?.state.step).toBe(settings.warmstartSteps)
    expect(start.optimizer?.state.step).toBe(settings.warmstartSteps)
    expect(start.optimizer?.state.v).toEqual(warm.optimizer!.state.v)
    expect(warm.optimizer!.state.m.some((a) => a.some((x) => x !== 0))).toBe(true)
    expect(start.optimizer?.state.m).toEqual(warm.optimizer!.state.m.map((a) => new Float32Array(a.length)))
    expect(start.optimizer?.config.lr).toBe(1e-3)
    const after = await loadCheckpoint(join(root, "smoke-icrl", "checkpoints", "step-000001"))
    expect(after.optimizer?.state.step).toBe(settings.warmstartSteps + 1)
  })

  test("measureGradientNoise compares independent RL and supervised batches without changing the weights", async () => {
    const { model } = await loadModel(join(root, "smoke-icrl", "checkpoints", "step-000002"))
    const before = model.variables.map((v) => Array.from(v.dataSync()))
    const report = await Effect.runPromise(measureGradientNoise({
      env: letterEnv,
      model,
      tokenizer: new ByteTokenizer(),
      config: algorithm({ algorithm: "grpo" }),
      batches: 3,
      demonstrations: 4,
    }))
    for (const part of [report.rl, report.supervised]) {
      expect(part.cosines).toHaveLength(3)
      expect(part.gradNorms).toHaveLength(3)
      for (const c of part.cosines) expect(Math.abs(c)).toBeLessThanOrEqual(1)
      expect(Number.isFinite(part.medianCosine)).toBe(true)
    }
    expect(report.supervised.gradNorms.every((n) => n > 0)).toBe(true)
    expect(report.rl.solverAccuracy).toHaveLength(3)
    model.variables.forEach((v, i) => expect(Array.from(v.dataSync())).toEqual(before[i]!))
    await expect(Effect.runPromise(measureGradientNoise({ env: letterEnv, model, tokenizer: new ByteTokenizer(), config: algorithm({}), batches: 1, demonstrations: 4 }))).rejects.toThrow(/at least 2/)
    model.dispose()
  })

  test("an existing run directory is never overwritten", async () => {
    const out = join(root, "smoke-icrl")
    const before = readFileSync(join(out, "metrics.jsonl"), "utf8")
    await expect(Effect.runPromise(runTraining({ env: letterEnv, algorithm: algorithm({ total_steps: 1 }), settings, out, cacheDir: join(root, "cache") }))).rejects.toThrow(/already holds a run/)
    expect(readFileSync(join(out, "metrics.jsonl"), "utf8")).toBe(before)
  })

  test("resume continues exactly: 2 steps + resume to 4 equals 4 uninterrupted steps", async () => {
    const a = join(root, "full")
    const b = join(root, "split")
    const cacheDir = join(root, "cache")
    await Effect.runPromise(runTraining({ env: letterEnv, algorithm: algorithm({ total_steps: 4 }), settings, out: a, cacheDir }))
    await Effect.runPromise(runTraining({ env: letterEnv, algorithm: algorithm({ total_steps: 2 }), settings, out: b, cacheDir }))
    await Effect.runPromise(runTraining({ env: letterEnv, algorithm: algorithm({ total_steps: 4 }), settings, out: b, cacheDir, resume: true }))
    const trainA = metrics(a).filter((l) => l["kind"] === "train").map(withoutTimes)
    const trainB = metrics(b).filter((l) => l["kind"] === "train").map(withoutTimes)
    expect(trainB).toEqual(trainA)
    expect(weights(b, "step-000004")).toEqual(weights(a, "step-000004"))
  })
})

/** Every file under `dir` with its bytes (base64): what a failed resume must leave as it was. */
const snapshot = (dir: string): Record<string, string> =>
  Object.fromEntries(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => {
        const path = join(e.parentPath, e.name)
        return [path.slice(dir.length + 1), readFileSync(path).toString("base64")]
      })
      .sort(([a], [b]) => (a! < b! ? -1 : 1)),
  )

describe("resuming a damaged run", () => {
  const cacheDir = join(root, "cache")
  /** A finished 2-step run to copy and damage (checkpoints after every step). */
  const base = join(root, "base")
  const copy = (name: string): string => {
    const dir = join(root, name)
    cpSync(base, dir, { recursive: true })
    return dir
  }
  const resume = (out: string, steps: number, events: Array<RunEvent> = []) =>
    Effect.runPromise(
      Effect.flip(runTraining({ env: letterEnv, algorithm: algorithm({ total_steps: steps }), settings, out, cacheDir, resume: true, onEvent: (e) => events.push(e) })),
    )
  const resumes = (out: string, steps: number, events: Array<RunEvent> = []) =>
    Effect.runPromise(runTraining({ env: letterEnv, algorithm: algorithm({ total_steps: steps }), settings, out, cacheDir, resume: true, onEvent: (e) => events.push(e) }))

  beforeAll(async () => {
    await Effect.runPromise(runTraining({ env: letterEnv, algorithm: algorithm({ total_steps: 2 }), settings, out: base, cacheDir }))
  })

  test("a torn last line in metrics.jsonl is dropped with a warning naming the file and line; the run continues", async () => {
    const out = copy("torn")
    const metricsPath = join(out, "metrics.jsonl")
    const lines = readFileSync(metricsPath, "utf8").split("\n").filter((l) => l !== "").length
    appendFileSync(metricsPath, '{"kind":"train","step":3,"generatedTok')
    const events: Array<RunEvent> = []
    const result = await resumes(out, 3, events)
    expect(result.steps).toBe(3)
    const warnings = events.filter((e) => e.kind === "status" && e.message.startsWith("warning:"))
    expect(warnings.map((e) => (e as { message: string }).message)).toEqual([
      expect.stringContaining(`warning: ${metricsPath}:${lines + 1}: dropped a torn last line`),
    ])
    expect(metrics(out).filter((l) => l["kind"] === "train").map((l) => l["step"])).toEqual([1, 2, 3])
  })

  test("any other malformed metrics line fails naming the file and line, and changes nothing", async () => {
    const out = copy("malformed")
    const metricsPath = join(out, "metrics.jsonl")
    const lines = readFileSync(metricsPath, "utf8").split("\n")
    lines[1] = '{"kind":"train","step":1,"generatedTok'
    writeFileSync(metricsPath, lines.join("\n"))
    const before = snapshot(out)
    const error = await resume(out, 3)
    expect(error).toBeInstanceOf(DataError)
    expect(error.message).toStartWith(`${metricsPath}:2: malformed metrics line`)
    expect(snapshot(out)).toEqual(before)
  })

  const manifestPath = (out: string) => join(out, "checkpoints", "latest", "checkpoint.json")
  const editManifest = (out: string, edit: (m: Record<string, any>) => void) => {
    const m = JSON.parse(readFileSync(manifestPath(out), "utf8"))
    edit(m)
    writeFileSync(manifestPath(out), JSON.stringify(m))
  }

  for (const [name, edit, expected] of [
    ["a negative step", (m: Record<string, any>) => (m.step = -5), 'checkpoint.json is invalid: Expected a value greater than or equal to 0 at ["step"]'],
    ["a step of 1e300", (m: Record<string, any>) => (m.step = 1e300), 'checkpoint.json is invalid: Expected an integer at ["step"]'],
    ["a fractional step", (m: Record<string, any>) => (m.step = 1.5), 'checkpoint.json is invalid: Expected an integer at ["step"]'],
    ["a data file outside the checkpoint", (m: Record<string, any>) => (m.files.model.file = "../../config.json"), '["files"]["model"]["file"]'],
  ] as const) {
    test(`a checkpoint manifest with ${name} is rejected before any file is touched`, async () => {
      const out = copy(`manifest-${name.replaceAll(" ", "-")}`)
      editManifest(out, edit)
      const before = snapshot(out)
      const error = await resume(out, 3)
      expect(error).toBeInstanceOf(CheckpointError)
      expect(error.message).toStartWith(`checkpoint ${join(out, "checkpoints", "latest")}: checkpoint.json is invalid: `)
      expect(error.message).toContain(expected)
      expect(snapshot(out)).toEqual(before)
    })
  }

  test("a checkpoint past the run's steps, or past its metrics, is refused and changes nothing", async () => {
    const out = copy("past-steps")
    const before = snapshot(out)
    expect((await resume(out, 1)).message).toContain("cannot resume: its checkpoint is at step 2, beyond the run's 1 steps")
    expect(snapshot(out)).toEqual(before)
    const metricsPath = join(out, "metrics.jsonl")
    writeFileSync(metricsPath, `${readFileSync(metricsPath, "utf8").split("\n")[0]}\n`)
    const shortened = snapshot(out)
    expect((await resume(out, 3)).message).toContain(`cannot resume: ${metricsPath} records steps up to 0 but the checkpoint is at step 2`)
    expect(snapshot(out)).toEqual(shortened)
  })

  test("settings that would record a fake evaluation (no held-out tasks, no environment) are rejected by the Schema", async () => {
    const out = join(root, "bad-settings")
    for (const bad of [{ ...settings, evalTasks: 0 }, { ...settings, env: "" }, { ...settings, sampleBatchSize: 0 }]) {
      const error = await Effect.runPromise(Effect.flip(runTraining({ env: letterEnv, algorithm: algorithm({ total_steps: 1 }), settings: bad, out, cacheDir })))
      expect(error).toBeInstanceOf(ConfigError)
      expect(existsSync(out)).toBe(false)
    }
  })

  test("metrics past the checkpoint are dropped by an atomic rewrite; the run then matches the uninterrupted one", async () => {
    const out = copy("behind")
    // What a kill between step 2's metrics and its checkpoint leaves: the latest checkpoint at step 1.
    rmSync(join(out, "checkpoints", "latest"), { recursive: true })
    cpSync(join(out, "checkpoints", "step-000001"), join(out, "checkpoints", "latest"), { recursive: true })
    await resumes(out, 2)
    expect(readdirSync(out).filter((f) => f.includes(".tmp-"))).toEqual([])
    expect(metrics(out).map(withoutTimes)).toEqual(metrics(base).map(withoutTimes))
    expect(weights(out, "step-000002")).toEqual(weights(base, "step-000002"))
  })
})

describe("the warm-start cache", () => {
  const numerics = { backend: "wasm", tfjs: "4.22.0", wasm: { simd: true, threads: false }, blas: { library: "libopenblas.so.0", config: "OpenBLAS 0.3.21 DYNAMIC_ARCH Cooperlake", threads: 2 }, native: { library: "kernels-0123456789abcdef.so" } }

  test("its key changes with everything that changes the weights: backend, wasm build, BLAS library, build and threads, fused kernels", () => {
    const key = (n: BackendNumerics) => warmStartKey("letters", settings, 0, n, "d")
    const variants: ReadonlyArray<BackendNumerics> = [
      { ...numerics, backend: "cpu", wasm: null, blas: null, native: null },
      { ...numerics, native: null },
      { ...numerics, native: { library: "kernels-fedcba9876543210.so" } },
      { ...numerics, blas: null },
      { ...numerics, wasm: { simd: false, threads: false } },
      { ...numerics, tfjs: "4.23.0" },
      { ...numerics, blas: { ...numerics.blas, threads: 1 } },
      { ...numerics, blas: { ...numerics.blas, config: "OpenBLAS 0.3.21 DYNAMIC_ARCH Haswell" } },
      { ...numerics, blas: { ...numerics.blas, library: "/opt/openblas/libopenblas.so" } },
    ]
    const keys = new Set([key(numerics), ...variants.map(key)])
    expect(keys.size).toBe(variants.length + 1)
    expect(key({ ...numerics })).toBe(key(numerics))
    expect(warmStartKey("letters", settings, 0, numerics, "e")).not.toBe(key(numerics))
  })

  test("an environment whose code changes its demonstrations trains its own warm start; the same code reuses it", async () => {
    const cacheDir = join(root, "edited-env-cache")
    const short = { ...settings, warmstartSteps: 4, evalTasks: 1 }
    // The same name, an edited warm start: every solver demonstration says the right letter.
    const edited: EnvironmentPackage<LetterTask> = {
      ...letterEnv,
      warmStart: (options) =>
        Effect.map(letterEnv.warmStart!(options), (demos) =>
          demos.map((d) => (d.role === "solver" ? { ...d, completion: ` ${d.prompt.match(/say (\w)/)![1]}` } : d)),
        ),
    }
    const reused = async (env: EnvironmentPackage<LetterTask>, name: string) => {
      const events: Array<RunEvent> = []
      await Effect.runPromise(runTraining({ env, algorithm: algorithm({ total_steps: 0 }), settings: short, out: join(root, name), cacheDir, onEvent: (e) => events.push(e) }))
      return events.some((e) => e.kind === "status" && e.message.startsWith("warm start reused"))
    }
    expect(await reused(letterEnv, "edited-a")).toBe(false)
    expect(await reused(edited, "edited-b")).toBe(false)
    expect(await reused(edited, "edited-c")).toBe(true)
    expect(readdirSync(cacheDir).filter((d) => d.startsWith("warmstart-letters-"))).toHaveLength(2)
    expect(weights(join(root, "edited-a"), "step-000000")).not.toEqual(weights(join(root, "edited-b"), "step-000000"))
  })

  test("a run under other numerics trains its own warm start instead of reusing one whose weights differ", async () => {
    const cacheDir = join(root, "numerics-cache")
    const algo = algorithm({ total_steps: 0 })
    const short = { ...settings, warmstartSteps: 4, evalTasks: 1 }
    const start = async (name: string) => {
      const events: Array<RunEvent> = []
      await Effect.runPromise(runTraining({ env: letterEnv, algorithm: algo, settings: short, out: join(root, name), cacheDir, onEvent: (e) => events.push(e) }))
      return events.some((e) => e.kind === "status" && e.message.startsWith("warm start reused"))
    }
    const blas = (await selectBackend("auto", { threads: 1 })).description.startsWith("wasm+openblas")
    // Without the system BLAS, the two numerics compared are the wasm and cpu backends.
    const other = async () => (blas ? selectBackend("auto", { threads: 2 }) : selectBackend("cpu"))
    try {
      if (!blas) await selectBackend("wasm")
      expect(await start("numerics-a")).toBe(false)
      await other()
      expect(await start("numerics-b")).toBe(false)
      expect(await start("numerics-c")).toBe(true)
    } finally {
      unregisterBlasKernels()
      await selectBackend("wasm")
    }
    const entries = readdirSync(cacheDir).filter((d) => d.startsWith("warmstart-letters-"))
    expect(entries).toHaveLength(2)
    expect(weights(join(root, "numerics-a"), "step-000000")).not.toEqual(weights(join(root, "numerics-b"), "step-000000"))
    expect(weights(join(root, "numerics-b"), "step-000000")).toEqual(weights(join(root, "numerics-c"), "step-000000"))
  })
})
