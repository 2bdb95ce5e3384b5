import { dlopen, FFIType, type Pointer } from "bun:ffi"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs"
import { cpus, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

/** The C source of the fused kernels. */
const nativeKernelSource: string = fileURLToPath(new URL("../../native/kernels.c", import.meta.url))

/** Where compiled libraries are kept (one file per source, compiler and CPU). */
const buildDirectory: string = fileURLToPath(new URL("../../native/build/", import.meta.url))

/** Compiler flags: tuned for the CPU it runs on, and C math without errno so loops vectorize. */
const compilerFlags: ReadonlyArray<string> = ["-O3", "-march=native", "-fno-math-errno", "-fPIC", "-shared"]

/** The environment variable that turns the native kernels off (`ICRL_NATIVE=0`). */
const nativeSwitch = "ICRL_NATIVE"

const i64 = FFIType.i64
const ptr = FFIType.ptr
const f32 = FFIType.f32
const f64 = FFIType.f64

const symbols = {
  icrl_set_threads: { args: [FFIType.i32], returns: FFIType.i32 },
  icrl_threads: { args: [], returns: FFIType.i32 },
  icrl_rmsnorm: { args: [ptr, ptr, ptr, ptr, i64, i64, f32], returns: FFIType.void },
  icrl_rmsnorm_grad: { args: [ptr, ptr, ptr, ptr, ptr, ptr, i64, i64], returns: FFIType.void },
  icrl_swiglu: { args: [ptr, ptr, ptr, i64], returns: FFIType.void },
  icrl_swiglu_grad: { args: [ptr, ptr, ptr, ptr, ptr, i64], returns: FFIType.void },
  icrl_swiglu_packed: { args: [ptr, ptr, i64, i64], returns: FFIType.void },
  icrl_adamw: { args: [ptr, ptr, ptr, ptr, i64, f64, f64, f64, f64, f64, f64, f64, f64], returns: FFIType.void },
  icrl_token_logprobs: { args: [ptr, ptr, ptr, ptr, i64, i64], returns: FFIType.void },
  icrl_token_logprobs_grad: { args: [ptr, ptr, ptr, ptr, ptr, i64, i64], returns: FFIType.void },
  icrl_attention_inputs: {
    args: [ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, i64, i64, i64, i64, i64, i64, i64, i64, i64, f32, f32],
    returns: FFIType.void,
  },
  icrl_attention_inputs_grad: {
    args: [ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, i64, i64, i64, i64, i64, f32],
    returns: FFIType.void,
  },
  icrl_attention: { args: [ptr, ptr, ptr, ptr, ptr, ptr, i64, i64, i64, i64, i64, i64, i64], returns: FFIType.void },
  icrl_attention_grad: { args: [ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, i64, i64, i64, i64, i64], returns: FFIType.void },
} as const

/** An absolute address (a number), as the kernels take their arrays. */
export type Address = number

/** Shapes of an attention call: batch rows, query columns, heads, key/value heads, head width. */
export interface AttentionDims {
  readonly batch: number
  readonly columns: number
  readonly heads: number
  readonly kvHeads: number
  readonly headDim: number
}

/** The constants of one AdamW update: betas, learning rate, epsilon, bias corrections, clip factor and decay (lr x weight decay). */
export interface AdamwStep {
  readonly b1: number
  readonly b2: number
  readonly lr: number
  readonly eps: number
  readonly c1: number
  readonly c2: number
  readonly clip: number
  readonly decay: number
}

/** The fused kernels of `native/kernels.c`, bound through `bun:ffi` (see that file for the layouts). */
export interface NativeKernels {
  /** The compiled library's path. */
  readonly path: string
  /** Sets the threads the kernels split their work across (the caller's included); returns the count in use. */
  readonly setThreads: (threads: number) => number
  readonly threads: () => number
  readonly rmsNorm: (x: Address, gain: Address, y: Address, rstd: Address, rows: number, width: number, eps: number) => void
  readonly rmsNormGrad: (dy: Address, x: Address, gain: Address, rstd: Address, dx: Address, dgain: Address, rows: number, width: number) => void
  readonly swiglu: (gate: Address, up: Address, out: Address, size: number) => void
  readonly swigluGrad: (dy: Address, gate: Address, up: Address, dgate: Address, dup: Address, size: number) => void
  /** silu(gate) * up of packed rows [gate | up] ([rows, 2 width]) into [rows, width]. */
  readonly swigluPacked: (gateUp: Address, out: Address, rows: number, width: number) => void
  /**
   * One AdamW update of a variable's values `p` and moments `m`, `v` in place from its gradient
   * `g` (JS arrays), the same bits as the optimizer's plain loop.
   */
  readonly adamw: (p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, step: AdamwStep) => void
  /** lp[r] = x[r, ids[r]] - lse[r] of logits x [rows, V], with lse the row's log-sum-exp. */
  readonly tokenLogprobs: (x: Address, ids: Address, lp: Address, lse: Address, rows: number, V: number) => void
  readonly tokenLogprobsGrad: (dy: Address, x: Address, ids: Address, lse: Address, dx: Address, rows: number, V: number) => void
  /** `strides`: floats between token rows of q and of k/v (q, k, v may be column blocks of one packed matrix). */
  readonly attentionInputs: (
    q: Address, k: Address, v: Address, qGain: Address, kGain: Address, cos: Address, sin: Address, positions: Address,
    qOut: Address, kOut: Address, vOut: Address, qRstd: Address, kRstd: Address,
    dims: AttentionDims, keyColumns: number, firstColumn: number, strides: { readonly q: number; readonly kv: number }, eps: number, scale: number,
  ) => void
  readonly attentionInputsGrad: (
    dqOut: Address, dkOut: Address, dvOut: Address, q: Address, k: Address, qGain: Address, kGain: Address, qRstd: Address, kRstd: Address,
    cos: Address, sin: Address, positions: Address, dq: Address, dk: Address, dv: Address, dqGain: Address, dkGain: Address,
    dims: AttentionDims, scale: number,
  ) => void
  readonly attention: (q: Address, k: Address, v: Address, pads: Address, out: Address, lse: Address, dims: AttentionDims, keyColumns: number, firstColumn: number) => void
  readonly attentionGrad: (dout: Address, q: Address, k: Address, v: Address, out: Address, lse: Address, pads: Address, dq: Address, dk: Address, dv: Address, dims: AttentionDims) => void
}

/** Outcome of building and loading the kernels: the bound library, or why there is none. */
export type NativeKernelsLookup = { readonly ok: true; readonly kernels: NativeKernels } | { readonly ok: false; readonly reason: string }

const firstLine = (text: string): string => text.trim().split("\n")[0] ?? ""

/** The C compiler: `CC` when set, else `cc`; its version line, or undefined when none runs. */
const compilerVersion = (compiler: string): string | undefined => {
  try {
    const probe = Bun.spawnSync([compiler, "--version"], { stdout: "pipe", stderr: "pipe" })
    return probe.exitCode === 0 ? firstLine(probe.stdout.toString()) : undefined
  } catch {
    return undefined
  }
}

/** Compiles the source into `directory` unless that build exists; the library's path or why it failed. */
const build = (compiler: string, version: string, directory: string): { readonly path: string } | { readonly reason: string } => {
  const source = readFileSync(nativeKernelSource, "utf8")
  const key = createHash("sha256")
    .update([source, compiler, version, compilerFlags.join(" "), process.arch, cpus()[0]?.model ?? ""].join("\0"))
    .digest("hex")
    .slice(0, 16)
  const path = join(directory, `kernels-${key}.so`)
  if (existsSync(path)) return { path }
  try {
    mkdirSync(directory, { recursive: true })
  } catch (cause) {
    return { reason: `cannot create ${directory}: ${cause instanceof Error ? cause.message : String(cause)}` }
  }
  // Concurrent processes may build at once: each writes its own file and renames it into place.
  const partial = `${path}.${process.pid}.tmp`
  const run = Bun.spawnSync([compiler, ...compilerFlags, "-o", partial, nativeKernelSource, "-lpthread", "-lm"], { stdout: "pipe", stderr: "pipe" })
  if (run.exitCode !== 0) {
    rmSync(partial, { force: true })
    return { reason: `${compiler} failed: ${firstLine(run.stderr.toString())}` }
  }
  renameSync(partial, path)
  return { path }
}

const bind = (path: string): NativeKernels => {
  const s = dlopen(path, symbols).symbols
  const p = (address: Address) => address as unknown as Pointer
  return {
    path,
    setThreads: (threads) => s.icrl_set_threads(threads),
    threads: () => s.icrl_threads(),
    rmsNorm: (x, gain, y, rstd, rows, width, eps) => s.icrl_rmsnorm(p(x), p(gain), p(y), p(rstd), rows, width, eps),
    rmsNormGrad: (dy, x, gain, rstd, dx, dgain, rows, width) => s.icrl_rmsnorm_grad(p(dy), p(x), p(gain), p(rstd), p(dx), p(dgain), rows, width),
    swiglu: (gate, up, out, size) => s.icrl_swiglu(p(gate), p(up), p(out), size),
    swigluGrad: (dy, gate, up, dgate, dup, size) => s.icrl_swiglu_grad(p(dy), p(gate), p(up), p(dgate), p(dup), size),
    adamw: (pv, g, m, v, a) => s.icrl_adamw(pv, g, m, v, pv.length, a.b1, a.b2, a.lr, a.eps, a.c1, a.c2, a.clip, a.decay),
    tokenLogprobs: (x, ids, lp, lse, rows, V) => s.icrl_token_logprobs(p(x), p(ids), p(lp), p(lse), rows, V),
    tokenLogprobsGrad: (dy, x, ids, lse, dx, rows, V) => s.icrl_token_logprobs_grad(p(dy), p(x), p(ids), p(lse), p(dx), rows, V),
    swigluPacked: (gateUp, out, rows, width) => s.icrl_swiglu_packed(p(gateUp), p(out), rows, width),
    attentionInputs: (q, k, v, qGain, kGain, cos, sin, positions, qOut, kOut, vOut, qRstd, kRstd, d, keyColumns, firstColumn, strides, eps, scale) =>
      s.icrl_attention_inputs(
        p(q), p(k), p(v), p(qGain), p(kGain), p(cos), p(sin), p(positions), p(qOut), p(kOut), p(vOut), p(qRstd), p(kRstd),
        d.batch, d.columns, d.heads, d.kvHeads, d.headDim, keyColumns, firstColumn, strides.q, strides.kv, eps, scale,
      ),
    attentionInputsGrad: (dqOut, dkOut, dvOut, q, k, qGain, kGain, qRstd, kRstd, cos, sin, positions, dq, dk, dv, dqGain, dkGain, d, scale) =>
      s.icrl_attention_inputs_grad(
        p(dqOut), p(dkOut), p(dvOut), p(q), p(k), p(qGain), p(kGain), p(qRstd), p(kRstd), p(cos), p(sin), p(positions),
        p(dq), p(dk), p(dv), p(dqGain), p(dkGain), d.batch, d.columns, d.heads, d.kvHeads, d.headDim, scale,
      ),
    attention: (q, k, v, pads, out, lse, d, keyColumns, firstColumn) =>
      s.icrl_attention(p(q), p(k), p(v), p(pads), p(out), p(lse), d.batch, d.columns, d.heads, d.kvHeads, d.headDim, keyColumns, firstColumn),
    attentionGrad: (dout, q, k, v, out, lse, pads, dq, dk, dv, d) =>
      s.icrl_attention_grad(p(dout), p(q), p(k), p(v), p(out), p(lse), p(pads), p(dq), p(dk), p(dv), d.batch, d.columns, d.heads, d.kvHeads, d.headDim),
  }
}

let loaded: NativeKernelsLookup | undefined

/**
 * Builds (once per source, compiler and CPU; kept under `packages/trainer/native/build`, else
 * the temporary directory) and loads the fused kernels with the system C compiler (`CC`, else
 * `cc`). Never throws: no compiler, a failed build or `ICRL_NATIVE=0` is a reason string.
 *
 * @example
 * const found = loadNativeKernels()
 * if (found.ok) found.kernels.setThreads(2)
 */
export const loadNativeKernels = (): NativeKernelsLookup => {
  if (process.env[nativeSwitch] === "0") return { ok: false, reason: `native kernels turned off (${nativeSwitch}=0)` }
  if (loaded !== undefined) return loaded
  const compiler = process.env["CC"] || "cc"
  const version = compilerVersion(compiler)
  if (version === undefined) {
    loaded = { ok: false, reason: `no C compiler (${compiler}) to build the native kernels (install one, e.g. \`apt-get install gcc\`)` }
    return loaded
  }
  const reasons: Array<string> = []
  for (const directory of [buildDirectory, join(tmpdir(), "icrl-native")]) {
    const built = build(compiler, version, directory)
    if ("reason" in built) {
      reasons.push(built.reason)
      continue
    }
    try {
      loaded = { ok: true, kernels: bind(built.path) }
      return loaded
    } catch (cause) {
      reasons.push(`${built.path}: ${cause instanceof Error ? cause.message : String(cause)}`)
    }
  }
  loaded = { ok: false, reason: `native kernels unavailable: ${reasons.join("; ")}` }
  return loaded
}
