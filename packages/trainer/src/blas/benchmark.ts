import * as tf from "@tensorflow/tfjs-core"
import { median } from "@icrl/core"
import { ptr } from "bun:ffi"
import { CblasNoTrans, CblasRowMajor, loadOpenBlas, type OpenBlas } from "./OpenBlas.ts"
import { planMatMul } from "./matMul.ts"
import { blasKernelStatus, registerBlasKernels, unregisterBlasKernels } from "./registerBlasKernels.ts"

/** One matrix product to time: operand shapes and transposes as passed to `tf.matMul`. */
export interface MatMulCase {
  readonly name: string
  readonly a: ReadonlyArray<number>
  readonly b: ReadonlyArray<number>
  readonly transposeA: boolean
  readonly transposeB: boolean
}

/** Timing of one case: median GFLOP/s of the wasm backend's own kernel and of the BLAS kernel. */
export interface MatMulTiming {
  readonly name: string
  readonly a: ReadonlyArray<number>
  readonly b: ReadonlyArray<number>
  readonly transposeA: boolean
  readonly transposeB: boolean
  readonly mflop: number
  readonly wasmGflops: number
  readonly blasGflops: number
  readonly speedup: number
}

/** Sizes of a transformer training batch that determine its matrix products. */
export interface TransformerDims {
  readonly batch: number
  readonly seqLen: number
  readonly dModel: number
  readonly nHeads: number
  readonly dFf: number
  readonly vocabSize: number
}

/**
 * The matrix products of a decoder-only transformer with these dims: a training step's forward
 * projections, attention, tied logits and the transposed products of the backward pass, then
 * the products of one KV-cache decoding step.
 *
 * @example
 * transformerMatMuls({ batch: 64, seqLen: 64, dModel: 128, nHeads: 4, dFf: 384, vocabSize: 259 })
 */
export const transformerMatMuls = (d: TransformerDims): Array<MatMulCase> => {
  const n = d.batch * d.seqLen
  const hd = d.dModel / d.nHeads
  const heads = [d.batch, d.nHeads]
  const mm = (name: string, a: Array<number>, b: Array<number>, transposeA = false, transposeB = false) => ({
    name, a, b, transposeA, transposeB
  })
  return [
    mm("proj x·W [N,d]x[d,d]", [n, d.dModel], [d.dModel, d.dModel]),
    mm("mlp up x·W [N,d]x[d,ff]", [n, d.dModel], [d.dModel, d.dFf]),
    mm("mlp down x·W [N,ff]x[ff,d]", [n, d.dFf], [d.dFf, d.dModel]),
    mm("logits x·Eᵀ [N,d]x[V,d]ᵀ", [n, d.dModel], [d.vocabSize, d.dModel], false, true),
    mm("rope x·R [N·H,hd]x[hd,hd]", [n * d.nHeads, hd], [hd, hd]),
    mm("scores q·kᵀ [B,H,T,hd]x[B,H,T,hd]ᵀ", [...heads, d.seqLen, hd], [...heads, d.seqLen, hd], false, true),
    mm("attend p·v [B,H,T,T]x[B,H,T,hd]", [...heads, d.seqLen, d.seqLen], [...heads, d.seqLen, hd]),
    mm("grad dx = dy·Wᵀ [N,ff]x[d,ff]ᵀ", [n, d.dFf], [d.dModel, d.dFf], false, true),
    mm("grad dW = xᵀ·dy [N,d]ᵀx[N,ff]", [n, d.dModel], [n, d.dFf], true, false),
    mm("grad dE = onehotᵀ·dy [N,V]ᵀx[N,d]", [n, d.vocabSize], [n, d.dModel], true, false),
    mm("decode x·W [B,d]x[d,ff]", [d.batch, d.dModel], [d.dModel, d.dFf]),
    mm("decode scores q·kᵀ [B,H,1,hd]x[B,H,T,hd]ᵀ", [...heads, 1, hd], [...heads, d.seqLen, hd], false, true),
    mm("decode attend p·v [B,H,1,T]x[B,H,T,hd]", [...heads, 1, d.seqLen], [...heads, d.seqLen, hd]),
    mm("square 1024³", [1024, 1024], [1024, 1024])
  ]
}

const flopsOf = (c: MatMulCase): number => {
  const plan = planMatMul(c.a, c.b, c.transposeA, c.transposeB)
  return 2 * plan.k * plan.outShape.reduce((x, y) => x * y, 1)
}

/** Seconds per call of `fn`, averaged over `calls` back-to-back calls. */
const secondsPerCall = (fn: () => void, calls: number): number => {
  const start = Bun.nanoseconds()
  for (let i = 0; i < calls; i++) fn()
  return (Bun.nanoseconds() - start) / 1e9 / calls
}

/**
 * Times each case on the current (wasm) backend with the backend's own matmul and with the BLAS
 * kernels, alternating the two per repeat; reports median GFLOP/s. Leaves the BLAS kernels
 * registered iff they were registered when called.
 *
 * @example
 * await tf.setBackend("wasm")
 * const rows = benchMatMuls(transformerMatMuls(dims), { threads: 2, repeats: 5 })
 */
export const benchMatMuls = (
  cases: ReadonlyArray<MatMulCase>,
  options: { readonly threads: number; readonly repeats: number; readonly minSeconds?: number }
): Array<MatMulTiming> => {
  const minSeconds = options.minSeconds ?? 0.05
  const before = blasKernelStatus()
  const rows: Array<MatMulTiming> = []
  for (const c of cases) {
    const flops = flopsOf(c)
    const a = tf.randomNormal(c.a.slice(), 0, 1, "float32", 1)
    const b = tf.randomNormal(c.b.slice(), 0, 1, "float32", 2)
    const call = () => tf.matMul(a, b, c.transposeA, c.transposeB).dispose()
    const wasm: Array<number> = []
    const blas: Array<number> = []
    const calls = { wasm: 1, blas: 1 }
    for (const side of ["wasm", "blas"] as const) {
      if (side === "wasm") unregisterBlasKernels()
      else registerBlasKernels({ threads: options.threads })
      const once = secondsPerCall(call, 1)
      calls[side] = Math.max(1, Math.ceil(minSeconds / Math.max(once, 1e-6)))
    }
    for (let r = 0; r < options.repeats; r++) {
      unregisterBlasKernels()
      wasm.push(secondsPerCall(call, calls.wasm))
      registerBlasKernels({ threads: options.threads })
      blas.push(secondsPerCall(call, calls.blas))
    }
    tf.dispose([a, b])
    const wasmGflops = flops / median(wasm) / 1e9
    const blasGflops = flops / median(blas) / 1e9
    rows.push({
      name: c.name,
      a: c.a,
      b: c.b,
      transposeA: c.transposeA,
      transposeB: c.transposeB,
      mflop: Math.round(flops / 1e4) / 100,
      wasmGflops: Math.round(wasmGflops * 100) / 100,
      blasGflops: Math.round(blasGflops * 100) / 100,
      speedup: Math.round((blasGflops / wasmGflops) * 100) / 100
    })
  }
  if (before === undefined) unregisterBlasKernels()
  else registerBlasKernels({ threads: before.threads, library: before.library })
  return rows
}

/**
 * Median GFLOP/s of a plain n³ `cblas_sgemm` on Float32Arrays (no TensorFlow.js): the
 * machine's sgemm peak that model throughput can be compared against.
 *
 * @example
 * const peak = measureSgemmPeak(blas, 1024, 5)
 */
export const measureSgemmPeak = (blas: OpenBlas, n = 1024, repeats = 5): number => {
  const a = new Float32Array(n * n).fill(0.5)
  const b = new Float32Array(n * n).fill(0.25)
  const c = new Float32Array(n * n)
  const pa = ptr(a)
  const pb = ptr(b)
  const pc = ptr(c)
  const call = () => blas.sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, pa, n, pb, n, 0, pc, n)
  call()
  const times: Array<number> = []
  for (let r = 0; r < repeats; r++) times.push(secondsPerCall(call, 3))
  return Math.round((2 * n * n * n) / median(times) / 1e7) / 100
}

/** Everything `bench/blas.ts` prints. */
export interface BlasBenchReport {
  readonly library: string
  readonly config: string
  readonly threads: number
  readonly repeats: number
  readonly dims: TransformerDims
  readonly sgemmPeakGflops: { readonly n: number; readonly gflops: number }
  readonly matmuls: ReadonlyArray<MatMulTiming>
}

/**
 * Loads the wasm backend and OpenBLAS, measures the sgemm peak and times the matrix products of
 * a training step with the wasm backend's matmul and with the BLAS kernels.
 *
 * @example
 * const report = await runBlasBench({ threads: 2, repeats: 5 })
 * if (typeof report !== "string") console.log(JSON.stringify(report))
 */
export const runBlasBench = async (options: {
  readonly threads: number
  readonly repeats: number
  readonly dims?: TransformerDims
}): Promise<BlasBenchReport | string> => {
  const found = loadOpenBlas()
  if (!found.ok) return found.reason
  await import("@tensorflow/tfjs-backend-wasm")
  if (!(await tf.setBackend("wasm"))) return "the wasm backend failed to initialize"
  const registered = registerBlasKernels({ threads: options.threads })
  if (!registered.ok) return registered.reason
  const dims = options.dims ?? { batch: 64, seqLen: 64, dModel: 128, nHeads: 4, dFf: 384, vocabSize: 259 }
  const gflops = measureSgemmPeak(found.blas, 1024, options.repeats)
  const matmuls = benchMatMuls(transformerMatMuls(dims), options)
  return {
    library: found.blas.path,
    config: found.blas.config,
    threads: found.blas.threads(),
    repeats: options.repeats,
    dims,
    sgemmPeakGflops: { n: 1024, gflops },
    matmuls
  }
}
