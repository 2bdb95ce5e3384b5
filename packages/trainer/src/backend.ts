import * as tf from "@tensorflow/tfjs-core"
import { basename } from "node:path"
import { probeWebgpu } from "./webgpu.ts"

/** Which TensorFlow.js backend to run on; `auto` picks the fastest that loads. */
export type BackendName = "auto" | "tensorflow" | "webgpu" | "wasm" | "cpu"

export const backendNames: ReadonlyArray<BackendName> = ["auto", "tensorflow", "webgpu", "wasm", "cpu"]

/** The backend in use and a one-line description for the start-up line. */
export interface BackendInfo {
  /** The TensorFlow.js backend name (`tensorflow`, `webgpu`, `wasm` or `cpu`). */
  readonly backend: string
  /** For example `wasm+openblas (libopenblas.so.0, 2 threads)`. */
  readonly description: string
}

export interface BackendOptions {
  /** Threads for native kernels (BLAS); defaults to the BLAS library's own choice. */
  readonly threads?: number
  /**
   * Register the BLAS kernels on the wasm backend when the system library is found.
   * Defaults to true for `auto` and false for an explicit `wasm`.
   */
  readonly blas?: boolean
  /**
   * Register the fused native kernels (RMSNorm, SwiGLU, attention) on the wasm backend when they
   * build; default true unless `ICRL_NATIVE=0`.
   */
  readonly native?: boolean
}

type BlasResult = { readonly ok: true; readonly library: string } | { readonly ok: false; readonly reason: string }
type BlasModule = {
  readonly registerBlasKernels?: (options?: { threads?: number; library?: string }) => BlasResult
  readonly blasKernelStatus?: () => { readonly library: string; readonly config: string; readonly threads: number } | undefined
}

const errorText = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause)).split("\n")[0] ?? ""

/** Loads a native TensorFlow binding and makes it current; the reason it failed otherwise. */
const tryTensorflow = async (): Promise<string | undefined> => {
  const reasons: Array<string> = []
  for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    try {
      await import(pkg)
      if (tf.findBackend("tensorflow") === undefined) {
        reasons.push(`${pkg} loaded but registered no "tensorflow" backend with this @tensorflow/tfjs-core`)
        continue
      }
      if (await tf.setBackend("tensorflow")) return undefined
      reasons.push(`${pkg}: backend failed to initialize`)
    } catch (cause) {
      reasons.push(`${pkg}: ${errorText(cause)}`)
    }
  }
  return reasons.join("; ")
}

const useWasm = async (): Promise<string | undefined> => {
  try {
    await import("@tensorflow/tfjs-backend-wasm")
    if (await tf.setBackend("wasm")) return undefined
    return "wasm backend failed to initialize"
  } catch (cause) {
    return errorText(cause)
  }
}

/**
 * Makes the WebGPU backend current; the reason it cannot otherwise. `hardwareOnly` (for `auto`)
 * passes over software adapters, which are slower than wasm with BLAS.
 */
const useWebgpu = async (hardwareOnly: boolean): Promise<{ readonly description: string } | { readonly reason: string }> => {
  const probe = await probeWebgpu()
  if (!probe.ok) return { reason: probe.reason }
  const { device, api, software } = probe.adapter
  if (hardwareOnly && software) return { reason: `only a software adapter (${device})` }
  try {
    if (!(await tf.setBackend("webgpu"))) return { reason: `the backend failed to initialize on ${device}` }
  } catch (cause) {
    return { reason: `the backend failed to initialize on ${device}: ${errorText(cause)}` }
  }
  return { description: `webgpu (${device}, ${api}${software ? ", software" : ""})` }
}

const useCpu = async (): Promise<void> => {
  await import("@tensorflow/tfjs-backend-cpu")
  if (!(await tf.setBackend("cpu"))) throw new Error("the cpu backend failed to initialize")
  // The cpu backend prints an advertisement for tfjs-node on its first write; the start-up line says enough.
  const backend = tf.backend() as unknown as { firstUse?: boolean }
  if (typeof backend.firstUse === "boolean") backend.firstUse = false
}

const blasModulePath = "./blas/index.ts"
const nativeModulePath = "./native/index.ts"

type NativeModule = {
  readonly registerNativeKernels?: (options?: { threads?: number }) => { readonly ok: true; readonly threads: number } | { readonly ok: false; readonly reason: string }
  readonly unregisterNativeKernels?: () => boolean
  readonly nativeKernelStatus?: () => { readonly library: string } | undefined
}

/** Registers the fused native kernels on the wasm backend (or removes them); a note for the start-up line. */
const tryNative = async (wanted: boolean, threads: number | undefined): Promise<{ readonly ok: boolean; readonly note: string }> => {
  let module: NativeModule
  try {
    module = (await import(nativeModulePath)) as NativeModule
  } catch (cause) {
    return { ok: false, note: `native kernels unavailable: ${errorText(cause)}` }
  }
  if (!wanted) {
    module.unregisterNativeKernels?.()
    return { ok: false, note: "" }
  }
  try {
    const result = module.registerNativeKernels?.(threads === undefined ? {} : { threads })
    if (result === undefined) return { ok: false, note: "native kernels unavailable" }
    return result.ok ? { ok: true, note: "fused" } : { ok: false, note: result.reason }
  } catch (cause) {
    return { ok: false, note: errorText(cause) }
  }
}

/** Registers the BLAS kernels on the wasm backend if that module and the library are present. */
const tryBlas = async (threads: number | undefined): Promise<BlasResult> => {
  let module: BlasModule
  try {
    module = (await import(blasModulePath)) as BlasModule
  } catch (cause) {
    return { ok: false, reason: `BLAS kernels unavailable: ${errorText(cause)}` }
  }
  if (typeof module.registerBlasKernels !== "function") return { ok: false, reason: "BLAS kernels unavailable" }
  try {
    return module.registerBlasKernels(threads === undefined ? {} : { threads })
  } catch (cause) {
    return { ok: false, reason: errorText(cause) }
  }
}

/**
 * Makes a TensorFlow.js backend current. `auto` tries the native `tensorflow` binding, then
 * `webgpu` on a hardware GPU adapter, then `wasm` (with BLAS kernels when the system OpenBLAS is
 * found), then `cpu`. An explicit name that cannot load is an error naming why.
 *
 * @example
 * const { description } = await selectBackend("auto", { threads: 2 })
 * console.log(`backend: ${description}`)
 */
export const selectBackend = async (name: BackendName, options: BackendOptions = {}): Promise<BackendInfo> => {
  const notes: Array<string> = []
  if (name === "tensorflow" || name === "auto") {
    const failure = await tryTensorflow()
    if (failure === undefined) return { backend: "tensorflow", description: "tensorflow (native TensorFlow binding)" }
    if (name === "tensorflow") throw new Error(`backend tensorflow is not available: ${failure}`)
    notes.push("tensorflow binding not available")
  }
  if (name === "webgpu" || name === "auto") {
    const webgpu = await useWebgpu(name === "auto")
    if ("description" in webgpu) return { backend: "webgpu", description: webgpu.description }
    if (name === "webgpu") throw new Error(`backend webgpu is not available: ${webgpu.reason}`)
    notes.push(`webgpu: ${webgpu.reason}`)
  }
  if (name === "wasm" || name === "auto") {
    const failure = await useWasm()
    if (failure === undefined) {
      const native = await tryNative(options.native ?? true, options.threads)
      const fused = native.ok ? "+fused" : ""
      if (options.blas ?? name === "auto") {
        const blas = await tryBlas(options.threads)
        if (blas.ok) {
          const threads = options.threads === undefined ? "" : `, ${options.threads} thread${options.threads === 1 ? "" : "s"}`
          const why = native.ok || native.note === "" ? "" : `; ${native.note}`
          return { backend: "wasm", description: `wasm+openblas${fused} (${blas.library}${threads}${why})` }
        }
        notes.push(blas.reason)
      }
      if (!native.ok && native.note !== "") notes.push(native.note)
      const why = notes.length === 0 ? "" : ` (${notes.join("; ")})`
      return { backend: "wasm", description: `wasm${fused}${why}` }
    }
    if (name === "wasm") throw new Error(`backend wasm is not available: ${failure}`)
    notes.push(`wasm: ${failure}`)
  }
  await useCpu()
  const why = notes.length === 0 ? "" : ` (${notes.join("; ")})`
  return { backend: "cpu", description: `cpu${why}` }
}

/** What decides the floating-point results of the current backend (see {@link backendNumerics}). */
export interface BackendNumerics {
  /** The TensorFlow.js backend (`tensorflow`, `wasm` or `cpu`) and the version of tfjs-core. */
  readonly backend: string
  readonly tfjs: string
  /** wasm: whether its SIMD and multi-threaded builds are in use (their kernels round differently). */
  readonly wasm: { readonly simd: boolean; readonly threads: boolean } | null
  /** The BLAS kernels on the wasm backend: library, build (with the CPU kernels it chose) and threads. */
  readonly blas: { readonly library: string; readonly config: string; readonly threads: number } | null
  /**
   * The fused native kernels on the wasm backend: the library, whose name carries the hash of
   * its source, compiler and CPU (their results do not depend on the thread count).
   */
  readonly native: { readonly library: string } | null
}

/**
 * What decides the floating-point results of the current backend, so that results computed
 * under one can be told from another's: the backend and tfjs version, the wasm build, and the
 * BLAS library, build and thread count (a different thread count splits the sums of a matrix
 * product differently, which changes the low bits of the weights a training run ends with).
 *
 * @example
 * await selectBackend("auto", { threads: 2 })
 * (await backendNumerics()).blas?.threads // 2
 */
export const backendNumerics = async (): Promise<BackendNumerics> => {
  const backend = tf.getBackend()
  if (backend !== "wasm") return { backend, tfjs: tf.version_core, wasm: null, blas: null, native: null }
  const flag = async (name: string) => (await tf.env().getAsync(name)) === true
  const wasm = { simd: await flag("WASM_HAS_SIMD_SUPPORT"), threads: await flag("WASM_HAS_MULTITHREAD_SUPPORT") }
  let status: ReturnType<NonNullable<BlasModule["blasKernelStatus"]>>
  try {
    status = ((await import(blasModulePath)) as BlasModule).blasKernelStatus?.()
  } catch {
    status = undefined
  }
  const blas = status === undefined ? null : { library: status.library, config: status.config, threads: status.threads }
  let native: { readonly library: string } | undefined
  try {
    native = ((await import(nativeModulePath)) as NativeModule).nativeKernelStatus?.()
  } catch {
    native = undefined
  }
  return { backend, tfjs: tf.version_core, wasm, blas, native: native === undefined ? null : { library: basename(native.library) } }
}
