import * as tf from "@tensorflow/tfjs-core"

/**
 * The model's operations through the fused native kernels (`native/kernels.c`, registered on the
 * wasm backend by `registerNativeKernels`), each one kernel call forward and one backward. Where
 * they are not registered the model uses its TensorFlow.js compositions instead
 * ({@link fusedKernelsActive}); both compute the same function up to float rounding.
 */

/** Names of the fused kernels on the wasm backend. */
export const fusedKernelNames = {
  rmsNorm: "IcrlRmsNorm",
  rmsNormGrad: "IcrlRmsNormGrad",
  swiglu: "IcrlSwiglu",
  swigluGrad: "IcrlSwigluGrad",
  swigluPacked: "IcrlSwigluPacked",
  tokenLogprobs: "IcrlTokenLogprobs",
  tokenLogprobsGrad: "IcrlTokenLogprobsGrad",
  attention: "IcrlAttention",
  attentionGrad: "IcrlAttentionGrad",
  decodeAttention: "IcrlDecodeAttention",
} as const

/**
 * Whether the fused kernels are registered for the current backend.
 *
 * @example
 * if (fusedKernelsActive()) console.log("fused RMSNorm, SwiGLU and attention")
 */
export const fusedKernelsActive = (): boolean => tf.getKernel(fusedKernelNames.rmsNorm, tf.getBackend()) !== undefined

const run = (name: string, inputs: tf.NamedTensorMap, attrs: Record<string, number> = {}): Array<tf.Tensor> => {
  const out = tf.engine().runKernel(name, inputs, attrs) as unknown as tf.Tensor | Array<tf.Tensor>
  return Array.isArray(out) ? out : [out]
}

/**
 * RMSNorm with gain over the last axis of a [N, d] matrix through the fused kernel.
 *
 * @example
 * const y = fusedRmsNorm(x, gain, 1e-6)
 */
export const fusedRmsNorm = (x: tf.Tensor2D, gain: tf.Tensor, eps: number): tf.Tensor2D =>
  tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, g, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc]
    const [y, rstd] = run(fusedKernelNames.rmsNorm, { x: input, gain: g }, { eps }) as [tf.Tensor2D, tf.Tensor1D]
    save([input, g, rstd])
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | Array<tf.Tensor>, saved: Array<tf.Tensor>) => {
        const [sx, sg, sr] = saved as [tf.Tensor, tf.Tensor, tf.Tensor]
        return run(fusedKernelNames.rmsNormGrad, { dy: dy as tf.Tensor, x: sx, gain: sg, rstd: sr })
      },
    }
  })(x, gain) as tf.Tensor2D

/**
 * silu(gate) * up through the fused kernel.
 *
 * @example
 * const h = fusedSwiglu(gate, up)
 */
export const fusedSwiglu = <T extends tf.Tensor>(gate: T, up: T): T =>
  tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [g, u, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc]
    save([g, u])
    return {
      value: run(fusedKernelNames.swiglu, { gate: g, up: u })[0] as tf.Tensor,
      gradFunc: (dy: tf.Tensor | Array<tf.Tensor>, saved: Array<tf.Tensor>) => {
        const [sg, su] = saved as [tf.Tensor, tf.Tensor]
        return run(fusedKernelNames.swigluGrad, { dy: dy as tf.Tensor, gate: sg, up: su })
      },
    }
  })(gate, up) as T

/**
 * log softmax(logits[r])[ids[r]] of each row through the fused kernels: one pass over the logits
 * forward (the row's log-sum-exp is kept) and one backward. `ids` must lie in [0, V).
 *
 * @example
 * const lp = fusedTokenLogprobs(logits, tf.tensor1d([3, 1], "int32"))
 */
export const fusedTokenLogprobs = (logits: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor1D =>
  tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, save] = args as [tf.Tensor2D, tf.GradSaveFunc]
    const [lp, lse] = run(fusedKernelNames.tokenLogprobs, { x, ids }) as [tf.Tensor1D, tf.Tensor1D]
    save([x, lse, ids])
    return {
      value: lp,
      gradFunc: (dy: tf.Tensor | Array<tf.Tensor>, saved: Array<tf.Tensor>) => {
        const [sx, slse, sids] = saved as [tf.Tensor, tf.Tensor, tf.Tensor]
        return run(fusedKernelNames.tokenLogprobsGrad, { dy: dy as tf.Tensor, x: sx, ids: sids, lse: slse })
      },
    }
  })(logits) as tf.Tensor1D

/**
 * silu(gate) * up of packed rows [gate | up] ([N, 2w] -> [N, w]) through the fused kernel, as the
 * decoder computes it from one matmul with the gate and up projections side by side. Inference
 * only (no gradient).
 *
 * @example
 * const act = fusedSwigluPacked(tf.matMul(h, gateUpWeights))
 */
export const fusedSwigluPacked = (gateUp: tf.Tensor2D): tf.Tensor2D => run(fusedKernelNames.swigluPacked, { gateUp })[0] as tf.Tensor2D

/** Rotary tables [positions, headDim / 2] of cos and sin (rotate-half layout), kept by the model. */
export interface RotaryTables {
  readonly cos: tf.Tensor2D
  readonly sin: tf.Tensor2D
}

/**
 * cos and sin of `position * inverseFrequencies[i]` for positions 0..length-1, computed in double
 * precision and rounded to float32 (as the TensorFlow.js path's tables are).
 *
 * @example
 * const tables = rotaryTables(model.inverseFrequencies, model.config.maxSeqLen)
 */
export const rotaryTables = (inverseFrequencies: Float64Array, length: number): RotaryTables => {
  const half = inverseFrequencies.length
  const cos = new Float32Array(length * half)
  const sin = new Float32Array(length * half)
  for (let p = 0; p < length; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * (inverseFrequencies[i] as number)
      cos[p * half + i] = Math.cos(angle)
      sin[p * half + i] = Math.sin(angle)
    }
  }
  return { cos: tf.tensor2d(cos, [length, half]), sin: tf.tensor2d(sin, [length, half]) }
}

/** How the rows of an attention call are laid out. */
export interface AttentionLayout {
  readonly batch: number
  readonly headDim: number
  /** The RMSNorm epsilon of the q/k norms. */
  readonly eps: number
  /** Rotary position of every token row [batch * columns]. */
  readonly positions: Int32Array
  /** Left padding of every batch row: its first `pads[b]` key columns are never attended to. */
  readonly pads: Int32Array
}

/** The kernels read the tables at the rows' positions: every position must have a row. */
const checkPositions = (layout: AttentionLayout, tables: RotaryTables): void => {
  const length = tables.cos.shape[0]
  for (const p of layout.positions) if (p < 0 || p >= length) throw new RangeError(`rotary position ${p} is outside the tables of ${length} positions`)
}

/**
 * Causal self-attention of token rows q [B*T, H*hd], k and v [B*T, Hkv*hd] (projections, before
 * the per-head q/k RMSNorm with gains `qGain`, `kGain` and the rotary embedding, which it
 * applies), with left padding; returns the heads merged back into token rows [B*T, H*hd]. Query
 * rows inside a row's padding get zeros. Differentiable in q, k, v and both gains.
 *
 * @example
 * const merged = fusedAttention(q, k, v, layer.qNorm, layer.kNorm, tables, { batch: B, headDim: hd, eps, positions, pads })
 */
export const fusedAttention = (
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  qGain: tf.Tensor,
  kGain: tf.Tensor,
  tables: RotaryTables,
  layout: AttentionLayout,
): tf.Tensor2D => {
  checkPositions(layout, tables)
  const attrs = { batch: layout.batch, headDim: layout.headDim, eps: layout.eps }
  // Index tensors are made where they are used: a tensor made in the forward pass would be gone by the backward one.
  const indices = () => ({ positions: tf.tensor1d(layout.positions, "int32"), pads: tf.tensor1d(layout.pads, "int32") })
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [sq, sk, sv, gq, gk, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc]
    const [out, qo, ko, vo, qRstd, kRstd, lse] = run(
      fusedKernelNames.attention,
      { q: sq, k: sk, v: sv, qGain: gq, kGain: gk, cos: tables.cos, sin: tables.sin, ...indices() },
      attrs,
    ) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]
    save([sq, sk, gq, gk, qo, ko, vo, qRstd, kRstd, out, lse])
    return {
      value: out,
      gradFunc: (dy: tf.Tensor | Array<tf.Tensor>, saved: Array<tf.Tensor>) => {
        const [q0, k0, g0, g1, qh, kh, vh, rq, rk, o, l] = saved as Array<tf.Tensor>
        return run(
          fusedKernelNames.attentionGrad,
          {
            dout: dy as tf.Tensor, q: q0!, k: k0!, qGain: g0!, kGain: g1!, cos: tables.cos, sin: tables.sin, ...indices(),
            qo: qh!, ko: kh!, vo: vh!, qRstd: rq!, kRstd: rk!, out: o!, lse: l!,
          },
          attrs,
        )
      },
    }
  })(q, k, v, qGain, kGain) as tf.Tensor2D
}

/**
 * The decoding form of {@link fusedAttention}, from the packed projections `qkv` [B*T, (H + 2 Hkv) hd]
 * (q, k and v side by side, as one matmul with the three weights concatenated gives them): the
 * new columns' keys and values are written into the key/value caches [B, Hkv, capacity, hd] in
 * place at columns `first`.., and their queries attend over cache columns pads[b]..first+t.
 * Inference only (no gradient).
 *
 * @example
 * const merged = fusedDecodeAttention(tf.matMul(h, qkvWeights), layer.qNorm, layer.kNorm, tables, layout, heads, slot.k, slot.v, cache.length)
 */
export const fusedDecodeAttention = (
  qkv: tf.Tensor2D,
  qGain: tf.Tensor,
  kGain: tf.Tensor,
  tables: RotaryTables,
  layout: AttentionLayout,
  heads: { readonly heads: number; readonly kvHeads: number },
  cacheK: tf.Tensor4D,
  cacheV: tf.Tensor4D,
  first: number,
): tf.Tensor2D => {
  checkPositions(layout, tables)
  return tf.tidy(
    () =>
      run(
        fusedKernelNames.decodeAttention,
        {
          qkv, qGain, kGain, cos: tables.cos, sin: tables.sin, cacheK, cacheV,
          positions: tf.tensor1d(layout.positions, "int32"), pads: tf.tensor1d(layout.pads, "int32"),
        },
        { batch: layout.batch, headDim: layout.headDim, heads: heads.heads, kvHeads: heads.kvHeads, eps: layout.eps, first },
      )[0] as tf.Tensor2D,
  )
}
