import * as tf from "@tensorflow/tfjs-core"

/** The time spent in one kernel (matrix products: one kernel and shape). */
export interface KernelTime {
  readonly kernel: string
  readonly calls: number
  readonly ms: number
}

/** Where the time of a profiled run went: per kernel, and outside any kernel (graph, tape, host code). */
export interface KernelProfile {
  readonly totalMs: number
  /** Slowest first. */
  readonly kernels: ReadonlyArray<KernelTime>
  readonly outsideKernelsMs: number
}

const matMuls = new Set(["BatchMatMul", "_FusedMatMul"])

/** A matrix product's name with its operand shapes, `ᵀ` marking a transposed operand. */
const kernelKey = (name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap | undefined): string => {
  if (!matMuls.has(name)) return name
  const side = (t: tf.TensorInfo | undefined, transposed: unknown) => `[${t?.shape.join("x") ?? "?"}]${transposed === true ? "ᵀ" : ""}`
  return `${name} ${side(inputs["a"], attrs?.["transposeA"])} * ${side(inputs["b"], attrs?.["transposeB"])}`
}

/**
 * Runs `run` with every kernel of `backend` (default: the current one) timed, then restores the
 * kernels. Each kernel call is timed on the host clock around its function, which on the wasm
 * and cpu backends is when its work is done; what is left of the total is the time outside
 * kernels (TensorFlow.js's graph and tape, tensor bookkeeping, host code).
 *
 * @example
 * const { profile } = profileKernels(() => optimizer.step(() => sftLoss(model, batch)))
 * console.log(profile.kernels[0]) // { kernel: "BatchMatMul [4096x128] * [128x384]", calls: 8, ms: 20.3 }
 */
export const profileKernels = <A>(run: () => A, backend: string = tf.getBackend()): { readonly result: A; readonly profile: KernelProfile } => {
  const times = new Map<string, { calls: number; ms: number }>()
  const originals = tf.getKernelsForBackend(backend)
  const wrap = (config: tf.KernelConfig): tf.KernelConfig => ({
    ...config,
    kernelFunc: (args) => {
      const started = performance.now()
      try {
        return config.kernelFunc(args)
      } finally {
        const key = kernelKey(config.kernelName, args.inputs, args.attrs)
        const entry = times.get(key) ?? { calls: 0, ms: 0 }
        entry.calls++
        entry.ms += performance.now() - started
        times.set(key, entry)
      }
    },
  })
  const replace = (configs: ReadonlyArray<tf.KernelConfig>) => {
    for (const config of configs) {
      tf.unregisterKernel(config.kernelName, backend)
      tf.registerKernel(config)
    }
  }
  replace(originals.map(wrap))
  const started = performance.now()
  let result: A
  try {
    result = run()
  } finally {
    replace(originals)
  }
  const totalMs = performance.now() - started
  const kernels = [...times.entries()].map(([kernel, t]) => ({ kernel, calls: t.calls, ms: t.ms })).sort((a, b) => b.ms - a.ms)
  return { result, profile: { totalMs, kernels, outsideKernelsMs: totalMs - kernels.reduce((sum, k) => sum + k.ms, 0) } }
}
