/**
 * Model throughput benchmark: training tokens/s (batch 64 x 64, forward + backward + AdamW) and
 * sampling new tokens/s (batch 64, 16 prompt + 48 new tokens, KV cache) of a preset, medians of
 * repeats. Prints one JSON object.
 *
 *   bun bench/model.ts [--preset small] [--backend auto] [--threads N] [--repeats N]
 */
import { backendNames, benchModel, type BackendName, type PresetName, presetNames } from "../packages/trainer/src/index.ts"

const value = (argv: ReadonlyArray<string>, name: string): string | undefined => {
  const at = argv.indexOf(`--${name}`)
  if (at >= 0) return argv[at + 1]
  const inline = argv.find((a) => a.startsWith(`--${name}=`))
  return inline?.slice(name.length + 3)
}

const fail = (message: string): never => {
  console.error(message)
  process.exit(2)
}

const positiveInt = (argv: ReadonlyArray<string>, name: string): number | undefined => {
  const raw = value(argv, name)
  if (raw === undefined) return undefined
  const n = Number(raw)
  return Number.isInteger(n) && n >= 1 ? n : fail(`--${name} must be a positive integer, got ${raw}`)
}

/** Runs the benchmark for the given arguments and prints its JSON; returns the exit code. */
export const main = async (argv: ReadonlyArray<string>): Promise<number> => {
  const known = new Set(["preset", "backend", "threads", "repeats"])
  for (const arg of argv) {
    if (arg.startsWith("--") && !known.has(arg.slice(2).split("=")[0] ?? "")) fail(`unknown flag ${arg}`)
  }
  const preset = value(argv, "preset") ?? "small"
  if (!presetNames.includes(preset as PresetName)) fail(`--preset must be one of ${presetNames.join(", ")}, got ${preset}`)
  const backend = value(argv, "backend") ?? "auto"
  if (!backendNames.includes(backend as BackendName)) fail(`--backend must be one of ${backendNames.join(", ")}, got ${backend}`)
  const threads = positiveInt(argv, "threads") ?? (Number(process.env["OPENBLAS_NUM_THREADS"]) || 2)
  const repeats = positiveInt(argv, "repeats") ?? 5
  const result = await benchModel({ preset: preset as PresetName, backend: backend as BackendName, threads, repeats })
  console.log(JSON.stringify(result, null, 2))
  return 0
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)))
