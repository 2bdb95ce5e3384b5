import * as tf from "@tensorflow/tfjs-core"

/** Float32 storage of a tensor that can be written in place (wasm heap or cpu backend array). */
interface InPlaceAccess {
  /** The array holding the tensor's values and the element offset where they start. */
  locate(t: tf.Tensor): { array: Float32Array; offset: number } | undefined
}

interface WasmBackendShape {
  readonly wasm?: { readonly HEAPU8?: Uint8Array }
  readonly dataIdMap?: { get(dataId: object): { memoryOffset?: number } | undefined }
}

interface CpuBackendShape {
  readonly data?: { get(dataId: object): { values?: unknown } | undefined }
}

/** In-place access for the current backend, or undefined where tensors are opaque (GPU, native). */
const inPlaceAccess = (): InPlaceAccess | undefined => {
  const name = tf.getBackend()
  const backend = tf.backend() as unknown
  if (name === "wasm") {
    const wasm = backend as WasmBackendShape
    if (wasm.wasm?.HEAPU8 === undefined || wasm.dataIdMap === undefined) return undefined
    return {
      locate: (t) => {
        const heap = wasm.wasm?.HEAPU8
        const offset = wasm.dataIdMap?.get(t.dataId)?.memoryOffset
        if (heap === undefined || offset === undefined || offset % 4 !== 0) return undefined
        return { array: new Float32Array(heap.buffer), offset: offset / 4 }
      },
    }
  }
  if (name === "cpu") {
    const cpu = backend as CpuBackendShape
    if (cpu.data === undefined) return undefined
    return {
      locate: (t) => {
        const values = cpu.data?.get(t.dataId)?.values
        return values instanceof Float32Array ? { array: values, offset: 0 } : undefined
      },
    }
  }
  return undefined
}

/** Keys and values a layer attends over: [B, nKvHeads, keyLength, headDim]. */
export interface LayerKeys {
  readonly k: tf.Tensor4D
  readonly v: tf.Tensor4D
}

/**
 * The keys and values of every layer for decoding. On the wasm and cpu backends the cache is
 * allocated once at full capacity and new columns are written into it in place (columns not
 * yet written are zero and masked); elsewhere it grows by concatenation. `length` counts the
 * columns written; call {@link advance} after each forward pass.
 *
 * @example
 * const cache = KvCache.create(model.config, model.headDim, batch, promptLength + maxNew)
 * const logits = new Decoder(model).step(promptIds, batch, promptLength, padLengths, cache) // advances the cache
 */
export class KvCache {
  readonly capacity: number
  /** True when columns are written in place into preallocated tensors. */
  readonly inPlace: boolean
  #length = 0
  #batch: number
  #layers: Array<LayerKeys | undefined>
  readonly #access: InPlaceAccess | undefined
  readonly #kvHeads: number
  readonly #headDim: number

  private constructor(layers: number, batch: number, kvHeads: number, headDim: number, capacity: number, inPlace: boolean) {
    this.capacity = capacity
    this.#batch = batch
    this.#kvHeads = kvHeads
    this.#headDim = headDim
    this.#access = inPlace ? inPlaceAccess() : undefined
    this.inPlace = this.#access !== undefined
    this.#layers = Array.from({ length: layers }, () => undefined)
    if (this.inPlace) {
      const shape: [number, number, number, number] = [batch, kvHeads, capacity, headDim]
      this.#layers = this.#layers.map(() => ({ k: tf.zeros(shape) as tf.Tensor4D, v: tf.zeros(shape) as tf.Tensor4D }))
    }
  }

  /**
   * A cache for `batch` rows and up to `capacity` columns. `inPlace: false` forces the
   * concatenating implementation.
   */
  static create(
    config: { readonly nLayers: number; readonly nKvHeads: number },
    headDim: number,
    batch: number,
    capacity: number,
    options: { readonly inPlace?: boolean } = {},
  ): KvCache {
    return new KvCache(config.nLayers, batch, config.nKvHeads, headDim, capacity, options.inPlace ?? true)
  }

  /** Rows (sequences) in the cache. */
  get batch(): number {
    return this.#batch
  }

  /** Columns written so far. */
  get length(): number {
    return this.#length
  }

  /** Number of key columns attention sees after writing `newColumns` more. */
  keyLength(newColumns: number): number {
    return this.inPlace ? this.capacity : this.#length + newColumns
  }

  /**
   * Stores the new columns `k`, `v` ([B, nKvHeads, T, headDim]) of `layer` after the
   * `length` columns already written, and returns the keys and values to attend over. The
   * returned tensors belong to the cache (not to any enclosing `tf.tidy`).
   */
  update(layer: number, k: tf.Tensor4D, v: tf.Tensor4D): LayerKeys {
    this.checkRoom(k.shape[2])
    const access = this.#access
    if (access !== undefined) {
      const slot = this.#layers[layer] as LayerKeys
      this.#write(access, slot.k, k)
      this.#write(access, slot.v, v)
      return slot
    }
    const prev = this.#layers[layer]
    const next: LayerKeys =
      prev === undefined
        ? { k: tf.keep(tf.clone(k)), v: tf.keep(tf.clone(v)) }
        : { k: tf.keep(tf.concat([prev.k, k], 2)), v: tf.keep(tf.concat([prev.v, v], 2)) }
    if (prev !== undefined) tf.dispose([prev.k, prev.v])
    this.#layers[layer] = next
    return next
  }

  /** Throws a RangeError when `columns` more columns would not fit. */
  checkRoom(columns: number): void {
    if (this.#length + columns > this.capacity) {
      throw new RangeError(`KV cache overflow: ${this.#length} + ${columns} columns exceed capacity ${this.capacity}`)
    }
  }

  /**
   * The preallocated keys and values [B, nKvHeads, capacity, headDim] of `layer`, for kernels that
   * write new columns in place (after the `length` columns written so far); in-place caches only.
   */
  layer(layer: number): LayerKeys {
    const slot = this.#layers[layer]
    if (!this.inPlace || slot === undefined) throw new Error(`KV cache layer ${layer} is not preallocated`)
    return slot
  }

  /** Marks `columns` more columns as written (after every layer was updated). */
  advance(columns: number): void {
    this.#length += columns
  }

  /**
   * Keeps only the given rows (indices into the current batch, in the new order), for example
   * to drop finished sequences from a decoding batch.
   */
  select(rows: ReadonlyArray<number>): void {
    for (const r of rows) if (!Number.isInteger(r) || r < 0 || r >= this.#batch) throw new RangeError(`KV cache has no row ${r}`)
    const access = this.#access
    this.#layers = this.#layers.map((layer) => {
      if (layer === undefined) return undefined
      const next =
        access !== undefined
          ? { k: this.#selectInPlace(access, layer.k, rows), v: this.#selectInPlace(access, layer.v, rows) }
          : tf.tidy(() => {
              const index = tf.tensor1d(Int32Array.from(rows), "int32")
              return { k: tf.gather(layer.k, index, 0) as tf.Tensor4D, v: tf.gather(layer.v, index, 0) as tf.Tensor4D }
            })
      tf.dispose([layer.k, layer.v])
      return next
    })
    this.#batch = rows.length
  }

  /** Releases the cache's tensors. */
  dispose(): void {
    for (const layer of this.#layers) if (layer !== undefined) tf.dispose([layer.k, layer.v])
    this.#layers = this.#layers.map(() => undefined)
  }

  #selectInPlace(access: InPlaceAccess, source: tf.Tensor4D, rows: ReadonlyArray<number>): tf.Tensor4D {
    const block = this.#kvHeads * this.capacity * this.#headDim
    const target = tf.zeros([rows.length, this.#kvHeads, this.capacity, this.#headDim]) as tf.Tensor4D
    const dst = access.locate(target)
    const src = access.locate(source)
    if (dst === undefined || src === undefined) throw new Error("KV cache storage is not addressable")
    rows.forEach((r, i) => {
      const from = src.offset + r * block
      if (src.array.buffer === dst.array.buffer) dst.array.copyWithin(dst.offset + i * block, from, from + block)
      else dst.array.set(src.array.subarray(from, from + block), dst.offset + i * block)
    })
    return target
  }

  #write(access: InPlaceAccess, target: tf.Tensor4D, source: tf.Tensor4D): void {
    const T = source.shape[2]
    const hd = this.#headDim
    const rows = this.#batch * this.#kvHeads
    const dst = access.locate(target)
    const src = access.locate(source)
    if (dst === undefined) throw new Error("KV cache storage is not addressable")
    const block = T * hd
    if (src !== undefined && src.array.buffer === dst.array.buffer) {
      for (let r = 0; r < rows; r++) {
        const from = src.offset + r * block
        dst.array.copyWithin(dst.offset + (r * this.capacity + this.#length) * hd, from, from + block)
      }
      return
    }
    const data = (src === undefined ? source.dataSync() : src.array.subarray(src.offset, src.offset + rows * block)) as Float32Array
    for (let r = 0; r < rows; r++) {
      dst.array.set(data.subarray(r * block, (r + 1) * block), dst.offset + (r * this.capacity + this.#length) * hd)
    }
  }
}
