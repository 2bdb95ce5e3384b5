/**
 * GPU check: does the WebGPU backend compute what the cpu backend computes, does training run end
 * to end on it, and how fast is it next to PyTorch on the same shapes. Prints one JSON object (and
 * writes it to --out).
 *
 *   bun run bench device [--shapes small,medium] [--repeats 3] [--require-webgpu]
 *                        [--torch-device cuda|cpu|none] [--torch-script PATH] [--run-steps 3] [--out FILE]
 *
 * `scripts/device/check.sh` runs it on a GPU machine from a bundle of the CLI; on a machine without a GPU
 * adapter it reports why and skips the WebGPU parts (exit 1 with --require-webgpu).
 */
import { environments as mathEnvironments } from "@icrl/envs-math"
import { defaultAlgorithmConfig, type EnvironmentPackage, type Task } from "@icrl/core"
import { backendAgreement, benchModel, modelConfig, presetNames, probeWebgpu, runTraining, selectBackend, type PresetName } from "@icrl/trainer"
import { runTorchReference, torchShapes } from "@icrl/trainer/blas"
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { defaulted, FlagError, optional, PositiveCount, toggle } from "../flags.ts"

interface DeviceOptions {
  readonly shapes: ReadonlyArray<PresetName>
  readonly repeats: number
  readonly runSteps: number
  readonly torchDevice: "cuda" | "cpu" | "none"
  readonly torchScript: string | undefined
  readonly out: string | undefined
  readonly requireWebgpu: boolean
}

/** The checks and measurements: prints the report and gives the exit code. */
const run = ({ shapes, repeats, runSteps, torchDevice, torchScript, out, requireWebgpu }: DeviceOptions) =>
  Effect.gen(function* () {
    const report: Record<string, unknown> = { started: new Date().toISOString() }
    const save = () => {
      const text = JSON.stringify(report, null, 2)
      if (out !== undefined) writeFileSync(out, `${text}\n`)
      return text
    }
    const phase = (name: string) => console.error(`device: ${name}`)

    const probe = yield* Effect.promise(() => probeWebgpu())
    report["webgpu"] = probe
    if (!probe.ok) {
      console.error(`device: no WebGPU adapter: ${probe.reason}`)
      if (requireWebgpu) {
        console.log(save())
        return 1
      }
    } else {
      phase(`adapter ${probe.adapter.device} (${probe.adapter.api}${probe.adapter.software ? ", software" : ""})`)
      // Correctness first: the same model on cpu and webgpu.
      const agreement: Record<string, unknown> = {}
      for (const shape of ["tiny", "small"] as const) {
        phase(`agreement on ${shape}`)
        agreement[shape] = yield* Effect.promise(() => backendAgreement("cpu", "webgpu", modelConfig(shape, 259)))
      }
      report["agreement"] = agreement
      save()

      // A short training run through the real loop: warm start, ICRL steps, held-out evaluations.
      phase(`training ${runSteps} ICRL steps on math with the small preset`)
      yield* Effect.promise(() => selectBackend("webgpu"))
      const env = mathEnvironments.find((e) => e.name === "math") as EnvironmentPackage<Task>
      const dir = mkdtempSync(join(tmpdir(), "icrl-device-"))
      const started = performance.now()
      const events: Array<string> = []
      const result = yield* runTraining({
        env,
        algorithm: { ...defaultAlgorithmConfig, total_steps: runSteps, train_batch_size: 8 },
        settings: {
          env: "math",
          envOptions: {},
          preset: "small",
          evalEvery: runSteps,
          evalTasks: 20,
          evalSeed: 0,
          passK: 0,
          evalRounds: 3,
          checkpointEvery: 0,
          warmstartSteps: 40,
          warmstartBatchSize: 32,
          warmstartLr: 3e-3,
          tokenBudget: 0,
          sampleBatchSize: 64,
        },
        out: join(dir, "run"),
        cacheDir: join(dir, "cache"),
        onEvent: (event) => {
          if (event.kind === "train") events.push(`step ${event.record.step}: ${event.record.stepSec.toFixed(2)} s, loss ${event.record.loss.toFixed(4)}`)
          if (event.kind === "eval") events.push(`eval @${event.record.step}: ${(event.record.critiqueFreeAccuracy * 100).toFixed(1)}%`)
        },
      })
      report["training"] = { steps: result.steps, wallSec: (performance.now() - started) / 1000, events }
      save()
    }

    // Throughput: ours on the best backend here, PyTorch on the same shapes.
    const throughput: Array<Record<string, unknown>> = []
    for (const shape of shapes) {
      phase(`throughput on ${shape}`)
      const ours = yield* Effect.promise(() => benchModel({ preset: shape as PresetName, backend: probe.ok ? "webgpu" : "auto", repeats }))
      const config = modelConfig(shape as PresetName, 259)
      const torch =
        torchDevice === "none"
          ? "not run (--torch-device none)"
          : runTorchReference({
              threads: 2,
              repeats,
              device: torchDevice as "cuda" | "cpu",
              ...(torchScript === undefined ? {} : { script: torchScript }),
              ...torchShapes(config),
            })
      throughput.push({
        shape,
        ours: { backend: ours.backendDescription, parameters: ours.parameters, train: ours.train, sample: ours.sample },
        torch,
        ...(typeof torch === "string"
          ? {}
          : {
              trainRatio: ours.train.tokensPerSecond / torch.train.tokensPerSecond,
              sampleRatio: ours.sample.tokensPerSecond / torch.sample.newTokensPerSecond,
            }),
      })
      report["throughput"] = throughput
      save()
    }
    report["finished"] = new Date().toISOString()
    console.log(save())
    return requireWebgpu && !probe.ok ? 1 : 0
  })

const parseShapes = (text: string): Effect.Effect<ReadonlyArray<PresetName>, FlagError> => {
  const shapes = text.split(",").map((s) => s.trim()).filter((s) => s !== "")
  const bad = shapes.find((s) => !presetNames.includes(s as PresetName))
  return bad === undefined && shapes.length > 0
    ? Effect.succeed(shapes as ReadonlyArray<PresetName>)
    : Effect.fail(new FlagError({ flag: "shapes", detail: `unknown shape "${bad ?? ""}"; one or more of ${presetNames.join(", ")}` }))
}

/** `bun run bench device [...]`. */
export const command = Command.make(
  "device",
  {
    shapes: defaulted(Flag.String("shapes"), "small,medium", "model shapes to measure, comma-separated presets"),
    repeats: defaulted(Flag.Int("repeats").pipe(Flag.withSchema(PositiveCount)), 3, "timed repeats (the median is reported)"),
    runSteps: defaulted(Flag.Int("run-steps").pipe(Flag.withSchema(PositiveCount)), 3, "ICRL steps of the short training run on WebGPU"),
    torchDevice: defaulted(Flag.Literals("torch-device", ["cuda", "cpu", "none"] as const), "cuda", "where PyTorch runs the same shapes (none: skip)"),
    torchScript: optional(Flag.String("torch-script"), "the PyTorch reference script (default: bench/torch_reference.py of this checkout)"),
    out: optional(Flag.String("out"), "also write the JSON report to this file"),
    requireWebgpu: toggle("require-webgpu", "fail (exit 1) when no WebGPU adapter is found"),
  },
  (f) =>
    Effect.gen(function* () {
      const shapes = yield* parseShapes(f.shapes)
      const code = yield* run({ ...f, shapes, torchScript: Option.getOrUndefined(f.torchScript), out: Option.getOrUndefined(f.out) })
      if (code !== 0) process.exitCode = code
    }),
).pipe(Command.withDescription("WebGPU against the cpu backend (same results), a short training run on it, and throughput next to PyTorch"))
