import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import type { ModelConfig } from "../model.ts"

/** The PyTorch reference script of the model benchmark (a benchmark, not a dependency). */
export const torchReferenceScript: string = fileURLToPath(new URL("../../../../bench/torch_reference.py", import.meta.url))

/** The PyTorch reference of the Qwen3-shape benchmark: transformers and peft on a Hugging Face folder. */
export const qwen3TorchReferenceScript: string = fileURLToPath(new URL("../../../../bench/qwen3_torch_reference.py", import.meta.url))

/**
 * Pythons tried in order: the one on PATH (may be a pyenv shim without torch), then Debian's
 * system interpreter, where `apt-get install python3-torch` puts torch.
 */
export const torchPythonCandidates: ReadonlyArray<string> = ["python3", "/usr/bin/python3", "python"]

/** The torch version `python` imports with `modules`, or undefined when it cannot import them. */
const torchVersion = (python: string, modules: ReadonlyArray<string>): string | undefined => {
  if (python.startsWith("/") && !existsSync(python)) return undefined
  try {
    const probe = Bun.spawnSync([python, "-c", `import ${modules.join(", ")}; print(torch.__version__)`], { stdout: "pipe", stderr: "ignore" })
    return probe.exitCode === 0 ? probe.stdout.toString().trim() : undefined
  } catch {
    return undefined // not installed under that name
  }
}

/**
 * The Python interpreter among `candidates` that imports `modules` (torch and the rest) with the
 * newest torch major version (the first such on a tie), or undefined: a torch 2.x wins over a
 * Debian torch 1.x found earlier.
 *
 * @example
 * const python = findTorchPython() // "/usr/bin/python3" on a Debian machine with python3-torch
 */
export const findTorchPython = (candidates: ReadonlyArray<string> = torchPythonCandidates, modules: ReadonlyArray<string> = ["torch"]): string | undefined => {
  const imports = modules.includes("torch") ? modules : ["torch", ...modules]
  let best: { readonly python: string; readonly major: number } | undefined
  for (const python of candidates) {
    const version = torchVersion(python, imports)
    if (version === undefined) continue
    const major = Number.parseInt(version, 10) || 0
    if (best === undefined || major > best.major) best = { python, major }
  }
  return best?.python
}

/** What `bench/torch_reference.py` prints. */
export interface TorchReferenceReport {
  readonly engine: string
  readonly python: string
  readonly threads: number
  readonly parameters: number
  readonly train: { readonly batch: number; readonly seq: number; readonly tokensPerSecond: number }
  readonly sample: {
    readonly batch: number
    readonly prompt: number
    readonly new: number
    readonly newTokensPerSecond: number
  }
}

/** Options of the reference run; names follow the script's flags. */
export interface TorchReferenceOptions {
  readonly python?: string
  /** The reference script (default: the repository's bench/torch_reference.py). */
  readonly script?: string
  /** Where PyTorch runs (default cpu). */
  readonly device?: "cpu" | "cuda"
  readonly threads: number
  readonly repeats?: number
  readonly vocab?: number
  readonly dModel?: number
  readonly layers?: number
  readonly heads?: number
  readonly kvHeads?: number
  readonly ff?: number
  readonly batch?: number
  readonly seq?: number
  readonly prompt?: number
  readonly newTokens?: number
}

/**
 * The reference's shape flags for a model config: the same architecture, so both sides of a
 * comparison run the same shapes whatever the preset.
 *
 * @example
 * runTorchReference({ threads: 2, ...torchShapes(modelConfig("medium", 259)) })
 */
export const torchShapes = (config: ModelConfig): Pick<TorchReferenceOptions, "vocab" | "dModel" | "layers" | "heads" | "kvHeads" | "ff"> => ({
  vocab: config.vocabSize,
  dModel: config.dModel,
  layers: config.nLayers,
  heads: config.nHeads,
  kvHeads: config.nKvHeads,
  ff: config.dFf,
})

/**
 * Runs the PyTorch reference with the same architecture and shapes and returns its report, or
 * a reason when no Python with torch is found or the run fails.
 *
 * @example
 * const torch = runTorchReference({ threads: 2, vocab: 259 })
 * if (typeof torch !== "string") console.log(torch.train.tokensPerSecond)
 */
export const runTorchReference = (options: TorchReferenceOptions): TorchReferenceReport | string => {
  const python = options.python ?? findTorchPython()
  if (python === undefined) return `no Python with torch found (tried ${torchPythonCandidates.join(", ")})`
  const flags: Array<[string, number | undefined]> = [
    ["--threads", options.threads],
    ["--repeats", options.repeats],
    ["--vocab", options.vocab],
    ["--d-model", options.dModel],
    ["--layers", options.layers],
    ["--heads", options.heads],
    ["--kv-heads", options.kvHeads],
    ["--ff", options.ff],
    ["--batch", options.batch],
    ["--seq", options.seq],
    ["--prompt", options.prompt],
    ["--new", options.newTokens]
  ]
  const argv = flags.flatMap(([flag, value]) => (value === undefined ? [] : [flag, String(value)]))
  if (options.device !== undefined) argv.push("--device", options.device)
  const run = Bun.spawnSync([python, options.script ?? torchReferenceScript, ...argv], { stdout: "pipe", stderr: "pipe" })
  const stdout = run.stdout.toString().trim()
  if (run.exitCode !== 0) {
    return `torch reference failed (exit ${run.exitCode}): ${stdout || run.stderr.toString().trim().split("\n").at(-1)}`
  }
  try {
    return JSON.parse(stdout.split("\n").at(-1) ?? "") as TorchReferenceReport
  } catch {
    return `torch reference printed no JSON: ${stdout.slice(0, 200)}`
  }
}
