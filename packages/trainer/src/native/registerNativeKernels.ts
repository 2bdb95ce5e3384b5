// The wasm backend must be registered before kernels are added to it.
import "@tensorflow/tfjs-backend-wasm"
import { getKernel, registerKernel, unregisterKernel } from "@tensorflow/tfjs-core"
import { availableParallelism } from "node:os"
import { fusedKernelConfigs } from "./fusedKernels.ts"
import { loadNativeKernels, type NativeKernels } from "./NativeKernels.ts"

/** Result of {@link registerNativeKernels}: the library and threads, or why nothing was registered. */
export type NativeRegistration =
  | { readonly ok: true; readonly library: string; readonly threads: number }
  | { readonly ok: false; readonly reason: string }

let active: { readonly kernels: NativeKernels; readonly names: ReadonlyArray<string> } | undefined

const defaultThreads = (): number => {
  const fromEnv = Number.parseInt(process.env["OPENBLAS_NUM_THREADS"] ?? "", 10)
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.max(1, availableParallelism())
}

/**
 * Builds and loads the fused native kernels (see `loadNativeKernels`) and registers them on the
 * TensorFlow.js `wasm` backend, where the model's RMSNorm, SwiGLU and attention then use them.
 * `threads` (default: `OPENBLAS_NUM_THREADS`, else the available cores) is how many threads
 * they split work across; the results do not depend on it. Without a compiler, or with
 * `ICRL_NATIVE=0`, nothing is registered and the reason is returned. Calling it again only
 * updates the thread count.
 *
 * @example
 * const native = registerNativeKernels({ threads: 2 })
 * console.log(native.ok ? `fused kernels (${native.threads} threads)` : native.reason)
 */
export const registerNativeKernels = (options: { readonly threads?: number } = {}): NativeRegistration => {
  const threads = options.threads ?? defaultThreads()
  if (!Number.isInteger(threads) || threads < 1) return { ok: false, reason: `threads must be a positive integer, got ${threads}` }
  const found = loadNativeKernels()
  if (!found.ok) return found
  const kernels = found.kernels
  const inUse = kernels.setThreads(threads)
  if (active === undefined) {
    const configs = fusedKernelConfigs(kernels)
    for (const config of configs) {
      if (getKernel(config.kernelName, config.backendName) !== undefined) unregisterKernel(config.kernelName, config.backendName)
      registerKernel(config)
    }
    active = { kernels, names: configs.map((c) => c.kernelName) }
  }
  return { ok: true, library: kernels.path, threads: inUse }
}

/**
 * Removes the fused kernels from the wasm backend: the model falls back to its TensorFlow.js
 * compositions. Returns false when none were registered.
 *
 * @example
 * unregisterNativeKernels() // the plain path, e.g. to compare against it
 */
export const unregisterNativeKernels = (): boolean => {
  if (active === undefined) return false
  for (const name of active.names) if (getKernel(name, "wasm") !== undefined) unregisterKernel(name, "wasm")
  active = undefined
  return true
}

/**
 * The registered native kernels: library path, threads and kernel names; undefined when none are.
 *
 * @example
 * nativeKernelStatus()?.threads // 2
 */
export const nativeKernelStatus = (): { readonly library: string; readonly threads: number; readonly kernels: ReadonlyArray<string> } | undefined =>
  active === undefined ? undefined : { library: active.kernels.path, threads: active.kernels.threads(), kernels: active.names }
