import { ptr } from "bun:ffi"
import type { DataType, TensorInfo } from "@tensorflow/tfjs-core"

/** What the wasm backend stores per tensor: its id and where its bytes start in the heap. */
export interface WasmTensorRecord {
  readonly id: number
  readonly memoryOffset: number
  readonly dtype: DataType
}

/** The parts of `@tensorflow/tfjs-backend-wasm`'s `BackendWasm` the native kernels use. */
export interface WasmBackendLike {
  readonly wasm: { readonly HEAPU8: Uint8Array; readonly HEAPF32: Float32Array }
  readonly dataIdMap: { get(dataId: object): WasmTensorRecord | undefined }
  makeOutput(shape: Array<number>, dtype: DataType): TensorInfo
  disposeData(dataId: object, force?: boolean): boolean
  incRef(dataId: object): void
}

/**
 * Narrows the opaque backend handed to a kernel to the wasm backend's shape.
 *
 * @example
 * const backend = asWasmBackend(args.backend)
 */
export const asWasmBackend = (backend: unknown): WasmBackendLike => {
  const candidate = backend as Partial<WasmBackendLike> | null
  if (
    candidate === null || typeof candidate !== "object" ||
    candidate.wasm === undefined || !(candidate.wasm.HEAPU8 instanceof Uint8Array) ||
    candidate.dataIdMap === undefined || typeof candidate.makeOutput !== "function"
  ) {
    throw new Error("native BLAS kernels need the tfjs wasm backend")
  }
  return candidate as WasmBackendLike
}

/**
 * Absolute address of the wasm heap's first byte. Wasm memory growth replaces the heap's
 * ArrayBuffer (and may move it), so call this after every allocation and before every
 * native call; never keep the result across allocations.
 *
 * @example
 * const base = heapBase(backend)
 * const aAddress = base + memoryOffset(backend, a)
 */
export const heapBase = (backend: WasmBackendLike): number => ptr(backend.wasm.HEAPU8)

/**
 * Byte offset of a tensor's data inside the wasm heap.
 *
 * @example
 * const offset = memoryOffset(backend, x)
 */
export const memoryOffset = (backend: WasmBackendLike, info: TensorInfo): number => {
  const record = backend.dataIdMap.get(info.dataId)
  if (record === undefined) throw new Error("tensor data is not on the wasm backend")
  return record.memoryOffset
}
