/** One float32 tensor by name, as stored in a safetensors file. */
export interface NamedTensor {
  readonly name: string
  readonly shape: ReadonlyArray<number>
  readonly data: Float32Array
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/**
 * Serializes float32 tensors in the safetensors format (8-byte little-endian header length,
 * JSON header, raw little-endian data), in the given order with no padding between tensors.
 *
 * @example
 * const bytes = encodeSafetensors([{ name: "w", shape: [2], data: new Float32Array([1, 2]) }])
 */
export const encodeSafetensors = (
  tensors: ReadonlyArray<NamedTensor>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array => {
  if (!littleEndian) throw new Error("safetensors writing needs a little-endian host")
  const header: Record<string, unknown> = {}
  if (Object.keys(metadata).length > 0) header["__metadata__"] = metadata
  let offset = 0
  for (const t of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1)
    if (size !== t.data.length) throw new RangeError(`tensor ${t.name}: shape [${t.shape.join(", ")}] needs ${size} values, has ${t.data.length}`)
    if (t.name in header) throw new RangeError(`duplicate tensor name ${t.name}`)
    header[t.name] = { dtype: "F32", shape: t.shape.slice(), data_offsets: [offset, offset + t.data.byteLength] }
    offset += t.data.byteLength
  }
  let json = JSON.stringify(header)
  const headerPad = (8 - ((Buffer.byteLength(json) + 8) % 8)) % 8
  json += " ".repeat(headerPad)
  const headerBytes = new TextEncoder().encode(json)
  const out = new Uint8Array(8 + headerBytes.length + offset)
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true)
  out.set(headerBytes, 8)
  let at = 8 + headerBytes.length
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at)
    at += t.data.byteLength
  }
  return out
}

/** Parses a safetensors file of float32 tensors; throws an Error saying what is wrong. */
export const decodeSafetensors = (
  bytes: Uint8Array,
): { tensors: Array<NamedTensor>; metadata: Record<string, string> } => {
  if (!littleEndian) throw new Error("safetensors reading needs a little-endian host")
  if (bytes.length < 8) throw new Error("file too short for a safetensors header")
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true)
  if (headerLength > BigInt(bytes.length - 8)) throw new Error("header length exceeds the file size")
  const start = 8 + Number(headerLength)
  let header: unknown
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, start)))
  } catch {
    throw new Error("header is not valid JSON")
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw new Error("header is not a JSON object")
  const tensors: Array<NamedTensor> = []
  let metadata: Record<string, string> = {}
  const dataLength = bytes.length - start
  const entries = Object.entries(header as Record<string, unknown>)
  for (const [name, value] of entries) {
    if (name === "__metadata__") {
      metadata = value as Record<string, string>
      continue
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown }
    if (info.dtype !== "F32") throw new Error(`tensor ${name}: dtype ${String(info.dtype)} is not supported (F32 only)`)
    const shape = info.shape
    const offsets = info.data_offsets
    if (!Array.isArray(shape) || !shape.every((n) => Number.isInteger(n) && n >= 0)) throw new Error(`tensor ${name}: bad shape`)
    if (!Array.isArray(offsets) || offsets.length !== 2) throw new Error(`tensor ${name}: bad data_offsets`)
    const [begin, end] = offsets as [number, number]
    const size = (shape as Array<number>).reduce((a, b) => a * b, 1)
    if (!(Number.isInteger(begin) && Number.isInteger(end) && begin >= 0 && end <= dataLength && end - begin === size * 4)) {
      throw new Error(`tensor ${name}: data_offsets [${begin}, ${end}] do not fit shape [${(shape as Array<number>).join(", ")}] in ${dataLength} data bytes`)
    }
    const data = new Float32Array(size)
    new Uint8Array(data.buffer).set(bytes.subarray(start + begin, start + end))
    tensors.push({ name, shape: shape as Array<number>, data })
  }
  return { tensors, metadata }
}
