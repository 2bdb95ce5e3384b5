import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from "@tensorflow/tfjs-core"
import { asWasmBackend, heapBase, memoryOffset, type WasmBackendLike } from "../blas/wasmHeap.ts"
import { fusedKernelNames } from "../fusedOps.ts"
import type { AttentionDims, NativeKernels } from "./NativeKernels.ts"

const backendName = "wasm"

const size = (shape: ReadonlyArray<number>): number => shape.reduce((a, b) => a * b, 1)

/** The named inputs of a kernel call, each required and of the expected dtype. */
const inputsOf = (kernel: string, inputs: NamedTensorInfoMap, names: ReadonlyArray<string>, ints: ReadonlyArray<string> = []): Record<string, TensorInfo> => {
  const out: Record<string, TensorInfo> = {}
  for (const name of names) {
    const t = inputs[name]
    if (t === undefined) throw new Error(`${kernel}: missing input "${name}"`)
    const dtype = ints.includes(name) ? "int32" : "float32"
    if (t.dtype !== dtype) throw new Error(`${kernel}: input "${name}" must be ${dtype}, got ${t.dtype}`)
    out[name] = t
  }
  return out
}

const numberAttr = (kernel: string, attrs: NamedAttrMap | undefined, name: string): number => {
  const value = attrs?.[name]
  if (typeof value !== "number") throw new Error(`${kernel}: attribute "${name}" must be a number`)
  return value
}

/**
 * Allocates the outputs first (an allocation may grow the heap and move it), then hands the
 * absolute address of every named tensor to `run`.
 */
const withAddresses = (
  backend: WasmBackendLike,
  tensors: Record<string, TensorInfo>,
  outputs: ReadonlyArray<readonly [string, Array<number>]>,
  run: (at: (name: string) => number) => void,
): Array<TensorInfo> => {
  const made = outputs.map(([name, shape]) => [name, backend.makeOutput(shape, "float32")] as const)
  const all: Record<string, TensorInfo> = { ...tensors, ...Object.fromEntries(made) }
  const base = heapBase(backend)
  run((name) => {
    const t = all[name]
    if (t === undefined) throw new Error(`no tensor ${name}`)
    return base + memoryOffset(backend, t)
  })
  return made.map(([, t]) => t)
}

/** The attention shapes of token rows q [B*T, H*hd] and k [B*T, Hkv*hd] from the attributes. */
const tokenRowDims = (kernel: string, q: TensorInfo, k: TensorInfo, attrs: NamedAttrMap | undefined): AttentionDims => {
  const batch = numberAttr(kernel, attrs, "batch")
  const headDim = numberAttr(kernel, attrs, "headDim")
  const rows = q.shape[0] as number
  return { batch, columns: rows / batch, heads: (q.shape[1] as number) / headDim, kvHeads: (k.shape[1] as number) / headDim, headDim }
}

const kernel = (kernelName: string, kernelFunc: KernelFunc): KernelConfig => ({ kernelName, backendName, kernelFunc })

/**
 * Kernel configs of the fused kernels for the wasm backend, backed by `native`:
 *
 * - `IcrlRmsNorm` {x [N, d], gain [d]} {eps} -> [y, rstd [N]]; `IcrlRmsNormGrad` {dy, x, gain, rstd} -> [dx, dgain]
 * - `IcrlSwiglu` {gate, up} -> silu(gate) * up; `IcrlSwigluGrad` {dy, gate, up} -> [dgate, dup]
 * - `IcrlAttention` {q, k, v [B*T, heads*hd] token rows, qGain, kGain [hd], cos, sin [positions, hd/2],
 *   positions [B*T], pads [B]} {batch, headDim, eps} -> [out [B*T, H*hd], qo, ko, vo (head-major), qRstd, kRstd, lse]:
 *   per-head q/k RMSNorm, rotary embedding, causal attention over each row's real tokens
 * - `IcrlAttentionGrad` {dout, q, k, qGain, kGain, cos, sin, positions, pads, qo, ko, vo, qRstd, kRstd, out, lse} {batch, headDim}
 *   -> [dq, dk, dv, dqGain, dkGain]
 * - `IcrlTokenLogprobs` {x [N, V], ids [N]} -> [lp, lse] (each [N]); `IcrlTokenLogprobsGrad` {dy, x, ids, lse} -> dx [N, V]
 * - `IcrlSwigluPacked` {gateUp [N, 2w]} -> silu(gate) * up [N, w] of the packed rows [gate | up]
 * - `IcrlDecodeAttention` {qkv [B*T, (H + 2 Hkv) hd] packed q | k | v, qGain, kGain, cos, sin, positions, pads, cacheK, cacheV}
 *   {batch, headDim, heads, kvHeads, eps, first} -> out: the new columns' keys and values are written into the caches
 *   [B, Hkv, capacity, hd] in place at columns first.., and the queries attend over cache columns pads[b]..first+t.
 *
 * @example
 * for (const config of fusedKernelConfigs(kernels)) registerKernel(config)
 */
export const fusedKernelConfigs = (native: NativeKernels): ReadonlyArray<KernelConfig> => [
  kernel(fusedKernelNames.rmsNorm, ({ inputs, backend, attrs }) => {
    const name = fusedKernelNames.rmsNorm
    const t = inputsOf(name, inputs, ["x", "gain"])
    const x = t["x"] as TensorInfo
    const width = x.shape.at(-1) ?? 1
    const rows = size(x.shape) / width
    const eps = numberAttr(name, attrs, "eps")
    return withAddresses(asWasmBackend(backend), t, [["y", x.shape.slice()], ["rstd", [rows]]], (at) =>
      native.rmsNorm(at("x"), at("gain"), at("y"), at("rstd"), rows, width, eps),
    )
  }),
  kernel(fusedKernelNames.rmsNormGrad, ({ inputs, backend }) => {
    const t = inputsOf(fusedKernelNames.rmsNormGrad, inputs, ["dy", "x", "gain", "rstd"])
    const x = t["x"] as TensorInfo
    const width = x.shape.at(-1) ?? 1
    const rows = size(x.shape) / width
    return withAddresses(asWasmBackend(backend), t, [["dx", x.shape.slice()], ["dgain", [width]]], (at) =>
      native.rmsNormGrad(at("dy"), at("x"), at("gain"), at("rstd"), at("dx"), at("dgain"), rows, width),
    )
  }),
  kernel(fusedKernelNames.swiglu, ({ inputs, backend }) => {
    const t = inputsOf(fusedKernelNames.swiglu, inputs, ["gate", "up"])
    const gate = t["gate"] as TensorInfo
    const [out] = withAddresses(asWasmBackend(backend), t, [["out", gate.shape.slice()]], (at) => native.swiglu(at("gate"), at("up"), at("out"), size(gate.shape)))
    return out as TensorInfo
  }),
  kernel(fusedKernelNames.swigluGrad, ({ inputs, backend }) => {
    const t = inputsOf(fusedKernelNames.swigluGrad, inputs, ["dy", "gate", "up"])
    const shape = (t["gate"] as TensorInfo).shape
    return withAddresses(asWasmBackend(backend), t, [["dgate", shape.slice()], ["dup", shape.slice()]], (at) =>
      native.swigluGrad(at("dy"), at("gate"), at("up"), at("dgate"), at("dup"), size(shape)),
    )
  }),
  kernel(fusedKernelNames.attention, ({ inputs, backend, attrs }) => {
    const name = fusedKernelNames.attention
    const t = inputsOf(name, inputs, ["q", "k", "v", "qGain", "kGain", "cos", "sin", "positions", "pads"], ["positions", "pads"])
    const d = tokenRowDims(name, t["q"] as TensorInfo, t["k"] as TensorInfo, attrs)
    const eps = numberAttr(name, attrs, "eps")
    const { batch: B, columns: T, heads: H, kvHeads: Hkv, headDim: hd } = d
    return withAddresses(
      asWasmBackend(backend),
      t,
      [
        ["out", [B * T, H * hd]],
        ["qo", [B, H, T, hd]],
        ["ko", [B, Hkv, T, hd]],
        ["vo", [B, Hkv, T, hd]],
        ["qRstd", [B * T * H]],
        ["kRstd", [B * T * Hkv]],
        ["lse", [B, H, T]],
      ],
      (at) => {
        native.attentionInputs(
          at("q"), at("k"), at("v"), at("qGain"), at("kGain"), at("cos"), at("sin"), at("positions"),
          at("qo"), at("ko"), at("vo"), at("qRstd"), at("kRstd"), d, T, 0, { q: H * hd, kv: Hkv * hd }, eps, 1 / Math.sqrt(hd),
        )
        native.attention(at("qo"), at("ko"), at("vo"), at("pads"), at("out"), at("lse"), d, T, 0)
      },
    )
  }),
  kernel(fusedKernelNames.attentionGrad, ({ inputs, backend, attrs }) => {
    const name = fusedKernelNames.attentionGrad
    const t = inputsOf(
      name,
      inputs,
      ["dout", "q", "k", "qGain", "kGain", "cos", "sin", "positions", "pads", "qo", "ko", "vo", "qRstd", "kRstd", "out", "lse"],
      ["positions", "pads"],
    )
    const q = t["q"] as TensorInfo
    const k = t["k"] as TensorInfo
    const d = tokenRowDims(name, q, k, attrs)
    const { batch: B, columns: T, heads: H, kvHeads: Hkv, headDim: hd } = d
    const b = asWasmBackend(backend)
    const head = [["dqo", [B, H, T, hd]], ["dko", [B, Hkv, T, hd]], ["dvo", [B, Hkv, T, hd]]] as const
    const grads = [["dq", q.shape.slice()], ["dk", k.shape.slice()], ["dv", k.shape.slice()], ["dqGain", [hd]], ["dkGain", [hd]]] as const
    const made = withAddresses(b, t, [...head.map(([n, s]) => [n, s.slice()] as const), ...grads.map(([n, s]) => [n, s.slice()] as const)], (at) => {
      native.attentionGrad(at("dout"), at("qo"), at("ko"), at("vo"), at("out"), at("lse"), at("pads"), at("dqo"), at("dko"), at("dvo"), d)
      native.attentionInputsGrad(
        at("dqo"), at("dko"), at("dvo"), at("q"), at("k"), at("qGain"), at("kGain"), at("qRstd"), at("kRstd"),
        at("cos"), at("sin"), at("positions"), at("dq"), at("dk"), at("dv"), at("dqGain"), at("dkGain"), d, 1 / Math.sqrt(hd),
      )
    })
    for (const scratch of made.slice(0, head.length)) b.disposeData(scratch.dataId)
    return made.slice(head.length)
  }),
  kernel(fusedKernelNames.tokenLogprobs, ({ inputs, backend }) => {
    const t = inputsOf(fusedKernelNames.tokenLogprobs, inputs, ["x", "ids"], ["ids"])
    const [rows, V] = (t["x"] as TensorInfo).shape as [number, number]
    return withAddresses(asWasmBackend(backend), t, [["lp", [rows]], ["lse", [rows]]], (at) => native.tokenLogprobs(at("x"), at("ids"), at("lp"), at("lse"), rows, V))
  }),
  kernel(fusedKernelNames.tokenLogprobsGrad, ({ inputs, backend }) => {
    const t = inputsOf(fusedKernelNames.tokenLogprobsGrad, inputs, ["dy", "x", "ids", "lse"], ["ids"])
    const [rows, V] = (t["x"] as TensorInfo).shape as [number, number]
    const [dx] = withAddresses(asWasmBackend(backend), t, [["dx", [rows, V]]], (at) =>
      native.tokenLogprobsGrad(at("dy"), at("x"), at("ids"), at("lse"), at("dx"), rows, V),
    )
    return dx as TensorInfo
  }),
  kernel(fusedKernelNames.swigluPacked, ({ inputs, backend }) => {
    const t = inputsOf(fusedKernelNames.swigluPacked, inputs, ["gateUp"])
    const [rows, packed] = (t["gateUp"] as TensorInfo).shape as [number, number]
    const [out] = withAddresses(asWasmBackend(backend), t, [["out", [rows, packed / 2]]], (at) => native.swigluPacked(at("gateUp"), at("out"), rows, packed / 2))
    return out as TensorInfo
  }),
  kernel(fusedKernelNames.decodeAttention, ({ inputs, backend, attrs }) => {
    const name = fusedKernelNames.decodeAttention
    const t = inputsOf(name, inputs, ["qkv", "qGain", "kGain", "cos", "sin", "positions", "pads", "cacheK", "cacheV"], ["positions", "pads"])
    const qkv = t["qkv"] as TensorInfo
    const [B, hd, H, Hkv] = ["batch", "headDim", "heads", "kvHeads"].map((a) => numberAttr(name, attrs, a)) as [number, number, number, number]
    const width = (H + 2 * Hkv) * hd
    const rows = qkv.shape[0] as number
    if (qkv.shape[1] !== width || rows % B !== 0) throw new Error(`${name}: qkv [${qkv.shape.join(", ")}] is not ${B} rows of ${width} packed columns`)
    const d: AttentionDims = { batch: B, columns: rows / B, heads: H, kvHeads: Hkv, headDim: hd }
    const cache = t["cacheK"] as TensorInfo
    const capacity = cache.shape[2] as number
    const first = numberAttr(name, attrs, "first")
    if (cache.shape[0] !== B || cache.shape[1] !== Hkv || cache.shape[3] !== hd || first + d.columns > capacity) {
      throw new Error(`${name}: cache [${cache.shape.join(", ")}] does not fit ${d.columns} columns at ${first}`)
    }
    const b = asWasmBackend(backend)
    const [out, qo] = withAddresses(b, t, [["out", [rows, H * hd]], ["qo", [B, H, d.columns, hd]]], (at) => {
      const q = at("qkv")
      native.attentionInputs(
        q, q + 4 * H * hd, q + 4 * (H + Hkv) * hd, at("qGain"), at("kGain"), at("cos"), at("sin"), at("positions"),
        at("qo"), at("cacheK"), at("cacheV"), 0, 0, d, capacity, first, { q: width, kv: width }, numberAttr(name, attrs, "eps"), 1 / Math.sqrt(hd),
      )
      native.attention(at("qo"), at("cacheK"), at("cacheV"), at("pads"), at("out"), 0, d, capacity, first)
    })
    b.disposeData((qo as TensorInfo).dataId)
    return out as TensorInfo
  }),
]
