import {
  BatchMatMul,
  Cast,
  GatherV2,
  Identity,
  Sum,
  _FusedMatMul,
  backend_util,
  getKernel,
  util,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo
} from "@tensorflow/tfjs-core"
import { planMatMul, runMatMul, type MatMulPlan } from "./matMul.ts"
import type { OpenBlas } from "./OpenBlas.ts"
import { runSum, sumBlocks, sumCalls } from "./sum.ts"
import { asWasmBackend, heapBase, memoryOffset, type WasmBackendLike } from "./wasmHeap.ts"

/** Backend the native kernels are registered for. */
export const wasmBackendName = "wasm"

const size = (shape: ReadonlyArray<number>): number => shape.reduce((acc, d) => acc * d, 1)

const requireFloat32 = (kernel: string, tensors: ReadonlyArray<TensorInfo>): void => {
  for (const t of tensors) {
    if (t.dtype !== "float32") {
      throw new Error(`${kernel} for non-float32 tensors is not supported (got ${t.dtype}).`)
    }
  }
}

const input = (inputs: NamedTensorInfoMap, name: string, kernel: string): TensorInfo => {
  const t = inputs[name]
  if (t === undefined) throw new Error(`${kernel}: missing input "${name}"`)
  return t
}

/** Runs whatever kernel the wasm backend currently has registered under `name`. */
const callWasmKernel = (
  name: string,
  backend: WasmBackendLike,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap = {}
): TensorInfo => {
  const config = getKernel(name, wasmBackendName)
  if (config === undefined) throw new Error(`the wasm backend has no ${name} kernel`)
  const result = config.kernelFunc({ inputs, backend, attrs })
  if (Array.isArray(result)) throw new Error(`${name} returned several tensors`)
  return result
}

/** Computes the planned product into a fresh output; `prefill` may seed it before accumulation. */
const product = (
  blas: OpenBlas,
  backend: WasmBackendLike,
  a: TensorInfo,
  b: TensorInfo,
  plan: MatMulPlan,
  prefill?: (heap: Float32Array, outStart: number, count: number) => void
): TensorInfo => {
  const out = backend.makeOutput(plan.outShape, "float32")
  const count = size(plan.outShape)
  if (count === 0) return out
  // makeOutput may have grown the heap: read views and addresses only from here on.
  const outOffset = memoryOffset(backend, out)
  const heap = backend.wasm.HEAPF32
  if (prefill !== undefined) prefill(heap, outOffset >>> 2, count)
  if (plan.k === 0) {
    if (prefill === undefined) heap.fill(0, outOffset >>> 2, (outOffset >>> 2) + count)
    return out
  }
  const base = heapBase(backend)
  runMatMul(
    blas,
    plan,
    base + memoryOffset(backend, a),
    base + memoryOffset(backend, b),
    base + outOffset,
    prefill !== undefined
  )
  return out
}

/**
 * `BatchMatMul` for the wasm backend through `cblas_sgemm` on the backend's own heap: inputs are
 * read in place, the output is allocated by the backend, transposes are BLAS flags.
 *
 * @example
 * registerKernel(batchMatMulConfig(blas))
 */
export const batchMatMulConfig = (blas: OpenBlas): KernelConfig => {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const a = input(inputs, "a", BatchMatMul)
    const b = input(inputs, "b", BatchMatMul)
    requireFloat32(BatchMatMul, [a, b])
    const plan = planMatMul(a.shape, b.shape, attrs?.["transposeA"] === true, attrs?.["transposeB"] === true)
    return product(blas, asWasmBackend(backend), a, b, plan)
  }
  return { kernelName: BatchMatMul, backendName: wasmBackendName, kernelFunc }
}

/** Writes a bias that varies only along the last axis (or a scalar) into every output row. */
const rowBiasFill = (
  backend: WasmBackendLike,
  bias: TensorInfo,
  outShape: ReadonlyArray<number>
): ((heap: Float32Array, outStart: number, count: number) => void) | undefined => {
  const n = outShape.at(-1) ?? 1
  if (bias.shape.length > outShape.length) return undefined
  const biasSize = size(bias.shape)
  const lastAxisOnly = bias.shape.slice(0, -1).every((d) => d === 1)
  const rowShaped = biasSize === n && lastAxisOnly && (bias.shape.at(-1) ?? 1) === n
  if (biasSize !== 1 && !rowShaped) return undefined
  return (heap, outStart, count) => {
    const biasStart = memoryOffset(backend, bias) >>> 2
    if (biasSize === 1) {
      heap.fill(heap[biasStart] ?? 0, outStart, outStart + count)
      return
    }
    heap.copyWithin(outStart, biasStart, biasStart + n)
    // The rows repeat with period n: double the filled prefix until the output is covered.
    let filled = n
    while (filled < count) {
      const chunk = Math.min(filled, count - filled)
      heap.copyWithin(outStart + filled, outStart, outStart + chunk)
      filled += chunk
    }
  }
}

const activationKernels: Readonly<Record<string, string>> = {
  relu: "Relu",
  relu6: "Relu6",
  elu: "Elu",
  sigmoid: "Sigmoid",
  leakyrelu: "LeakyRelu",
  prelu: "Prelu"
}

/**
 * `_FusedMatMul` for the wasm backend: the product through `cblas_sgemm`, a row bias folded in
 * as sgemm's C operand (beta = 1), any other bias and the activation through the wasm
 * backend's own element-wise kernels.
 *
 * @example
 * registerKernel(fusedMatMulConfig(blas))
 */
export const fusedMatMulConfig = (blas: OpenBlas): KernelConfig => {
  const kernelFunc: KernelFunc = ({ inputs, backend: opaque, attrs }) => {
    const backend = asWasmBackend(opaque)
    const a = input(inputs, "a", _FusedMatMul)
    const b = input(inputs, "b", _FusedMatMul)
    const bias = inputs["bias"] ?? undefined
    const preluWeights = inputs["preluActivationWeights"] ?? undefined
    requireFloat32(_FusedMatMul, bias === undefined ? [a, b] : [a, b, bias])
    const activation = typeof attrs?.["activation"] === "string" ? attrs["activation"] : "linear"
    const activationKernel = activationKernels[activation]
    if (activation !== "linear" && activationKernel === undefined) {
      throw new Error(`${activation} activation not yet supported for _FusedMatMul.`)
    }
    const plan = planMatMul(a.shape, b.shape, attrs?.["transposeA"] === true, attrs?.["transposeB"] === true)
    const fill = bias === undefined ? undefined : rowBiasFill(backend, bias, plan.outShape)
    let current = product(blas, backend, a, b, plan, fill)
    if (bias !== undefined && fill === undefined) {
      const added = callWasmKernel("Add", backend, { a: current, b: bias })
      backend.disposeData(current.dataId)
      current = added
    }
    if (activationKernel !== undefined) {
      let activated: TensorInfo
      if (activation === "prelu") {
        if (preluWeights === undefined) throw new Error("prelu activation needs preluActivationWeights")
        activated = callWasmKernel(activationKernel, backend, { x: current, alpha: preluWeights })
      } else if (activation === "leakyrelu") {
        const alpha = typeof attrs?.["leakyreluAlpha"] === "number" ? attrs["leakyreluAlpha"] : 0.2
        activated = callWasmKernel(activationKernel, backend, { x: current }, { alpha })
      } else {
        activated = callWasmKernel(activationKernel, backend, { x: current })
      }
      backend.disposeData(current.dataId)
      current = activated
    }
    return current
  }
  return { kernelName: _FusedMatMul, backendName: wasmBackendName, kernelFunc }
}

/** The kernel a replacement hands unsupported cases to (the wasm backend's own). */
export type Fallback = KernelConfig | undefined

/** Backends each fallback kernel has been set up for (cwrap bindings and the like). */
const setUp = new WeakMap<KernelConfig, WeakSet<object>>()

const delegate = (name: string, fallback: Fallback): KernelFunc => {
  if (fallback === undefined) {
    return () => {
      throw new Error(`the wasm backend has no ${name} kernel to handle this case`)
    }
  }
  return (args) => {
    // A backend initialized while our kernel was registered never ran this kernel's setup.
    const setup = fallback.setupFunc
    if (setup !== undefined) {
      const done = setUp.get(fallback) ?? new WeakSet<object>()
      setUp.set(fallback, done)
      if (!done.has(args.backend)) {
        setup(args.backend)
        done.add(args.backend)
      }
    }
    return fallback.kernelFunc(args)
  }
}

/**
 * `Identity` for the wasm backend without a copy: the output shares the input's storage
 * (reference counted, as the wasm backend's own `Reshape` and the cpu backend's `Identity` do).
 *
 * @example
 * registerKernel(identityConfig(getKernel("Identity", "wasm")))
 */
export const identityConfig = (fallback: Fallback): KernelConfig => {
  const original = delegate(Identity, fallback)
  const kernelFunc: KernelFunc = (args) => {
    const x = input(args.inputs, "x", Identity)
    if (x.dtype === "string") return original(args)
    asWasmBackend(args.backend).incRef(x.dataId)
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype }
  }
  return { kernelName: Identity, backendName: wasmBackendName, kernelFunc }
}

/**
 * `Cast` for the wasm backend: a cast to the tensor's own dtype shares its storage instead of
 * copying it; real conversions go to the backend's own kernel.
 *
 * @example
 * registerKernel(castConfig(getKernel("Cast", "wasm")))
 */
export const castConfig = (fallback: Fallback): KernelConfig => {
  const original = delegate(Cast, fallback)
  const kernelFunc: KernelFunc = (args) => {
    const x = input(args.inputs, "x", Cast)
    if (x.dtype !== args.attrs?.["dtype"] || x.dtype === "string" || x.dtype === "complex64") return original(args)
    asWasmBackend(args.backend).incRef(x.dataId)
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype }
  }
  return { kernelName: Cast, backendName: wasmBackendName, kernelFunc }
}

/** Above this many native calls a reduction is left to the wasm backend's own kernel. */
const maxSumCalls = 256

/**
 * `Sum` of float32 tensors for the wasm backend through `cblas_sgemv` with a vector of ones:
 * reductions over leading or middle axes (the gradients of broadcasts) need no transpose.
 * Other dtypes and reductions that would take many small calls go to the backend's own kernel.
 *
 * @example
 * registerKernel(sumConfig(blas, getKernel("Sum", "wasm")))
 */
export const sumConfig = (blas: OpenBlas, fallback: Fallback): KernelConfig => {
  const original = delegate(Sum, fallback)
  const kernelFunc: KernelFunc = (args) => {
    const x = input(args.inputs, "x", Sum)
    const axis = args.attrs?.["axis"]
    if (x.dtype !== "float32" || size(x.shape) === 0) return original(args)
    const axes = typeof axis === "number" || Array.isArray(axis)
      ? util.parseAxisParam(axis as number | Array<number>, x.shape)
      : x.shape.map((_, i) => i)
    const blocks = sumBlocks(x.shape, axes)
    if (!blocks.some((b) => b.reduce) || sumCalls(blocks) > maxSumCalls) return original(args)
    const backend = asWasmBackend(args.backend)
    const [outShape] = backend_util.computeOutAndReduceShapes(x.shape, axes)
    const shape = args.attrs?.["keepDims"] === true ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape
    const out = backend.makeOutput(shape, "float32")
    const base = heapBase(backend)
    runSum(blas, blocks, base + memoryOffset(backend, x), base + memoryOffset(backend, out))
    return out
  }
  return { kernelName: Sum, backendName: wasmBackendName, kernelFunc }
}

/** Below this many contiguous elements per gathered slice the wasm backend's kernel is used. */
const minGatherSlice = 8

/**
 * `GatherV2` (batchDims 0) of float32/int32 tensors for the wasm backend as one heap-to-heap
 * block copy per gathered slice; out-of-range indices throw as on the cpu backend. Narrow
 * slices and batched gathers go to the backend's own kernel.
 *
 * @example
 * registerKernel(gatherConfig(getKernel("GatherV2", "wasm")))
 */
export const gatherConfig = (fallback: Fallback): KernelConfig => {
  const original = delegate(GatherV2, fallback)
  const kernelFunc: KernelFunc = (args) => {
    const x = input(args.inputs, "x", GatherV2)
    const indices = input(args.inputs, "indices", GatherV2)
    const batchDims = args.attrs?.["batchDims"]
    if (
      (x.dtype !== "float32" && x.dtype !== "int32") || indices.dtype !== "int32" ||
      (typeof batchDims === "number" && batchDims !== 0)
    ) {
      return original(args)
    }
    const axisAttr = args.attrs?.["axis"]
    const axis = util.parseAxisParam(typeof axisAttr === "number" ? axisAttr : 0, x.shape)[0] ?? 0
    const outer = size(x.shape.slice(0, axis))
    const dim = x.shape[axis] ?? 0
    const inner = size(x.shape.slice(axis + 1))
    if (inner < minGatherSlice) return original(args)
    const backend = asWasmBackend(args.backend)
    const count = size(indices.shape)
    const out = backend.makeOutput([...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], x.dtype)
    // Views after the allocation: it may have replaced the heap.
    const words = backend.wasm.HEAPF32
    const ints = new Int32Array(words.buffer, words.byteOffset, words.length)
    const indexStart = memoryOffset(backend, indices) >>> 2
    for (let j = 0; j < count; j++) {
      const index = ints[indexStart + j] ?? -1
      if (index < 0 || index >= dim) {
        backend.disposeData(out.dataId)
        throw new Error(`GatherV2: the index value ${index} is not in [0, ${dim - 1}]`)
      }
    }
    const xStart = memoryOffset(backend, x) >>> 2
    const outStart = memoryOffset(backend, out) >>> 2
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < count; j++) {
        const from = xStart + (o * dim + (ints[indexStart + j] ?? 0)) * inner
        ints.copyWithin(outStart + (o * count + j) * inner, from, from + inner)
      }
    }
    return out
  }
  return { kernelName: GatherV2, backendName: wasmBackendName, kernelFunc }
}
