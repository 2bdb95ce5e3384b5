import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import * as tf from "@tensorflow/tfjs-core"
import fc from "fast-check"
import { Rng } from "@icrl/core"
import { adamwUpdate, Decoder, fusedAttention, fusedKernelsActive, KvCache, rmsNorm, swiglu, tokenLogprobs, TransformerModel, type ModelConfig } from "../src/index.ts"
import { loadNativeKernels, registerNativeKernels, unregisterNativeKernels } from "../src/native/index.ts"
import { maxAbsDiff, microConfig, useWasm } from "./helpers.ts"

// Where the kernels cannot be built (no C compiler) or are turned off, these tests are skipped
// and say why; CI's setup installs a compiler, so there they run.
const available = loadNativeKernels()
if (!available.ok) console.warn(`fused kernel tests skipped: ${available.reason}`)
let native = false

beforeAll(async () => {
  await useWasm()
  native = available.ok && registerNativeKernels({ threads: 2 }).ok
})

afterAll(() => {
  if (native) registerNativeKernels()
})

/** `f` evaluated with the fused kernels and again without them (the TensorFlow.js compositions). */
const bothWays = <A>(f: () => A): { fused: A; composed: A } => {
  expect(registerNativeKernels({ threads: 2 }).ok).toBe(true)
  expect(fusedKernelsActive()).toBe(true)
  const fused = f()
  unregisterNativeKernels()
  expect(fusedKernelsActive()).toBe(false)
  try {
    return { fused, composed: f() }
  } finally {
    registerNativeKernels({ threads: 2 })
  }
}

/** The values of f(inputs) and the gradients of sum(f(inputs) * probe), as plain arrays. */
const valueAndGrads = (f: (xs: Array<tf.Tensor>) => tf.Tensor, inputs: Array<tf.Tensor>, probe: tf.Tensor): Array<Float32Array> => {
  const y = f(inputs)
  const { value, grads } = tf.valueAndGrads((...xs: Array<tf.Tensor>) => tf.sum(tf.mul(f(xs), probe)) as tf.Scalar)(inputs)
  const out = [y, ...grads].map((t) => Float32Array.from(t.dataSync()))
  tf.dispose([y, value, ...grads])
  return out
}

const close = (a: ReadonlyArray<Float32Array>, b: ReadonlyArray<Float32Array>, tolerance: number): boolean =>
  a.length === b.length && a.every((x, i) => maxAbsDiff(x, b[i]!) <= tolerance * Math.max(1, ...Array.from(b[i]!, Math.abs)))

describe.skipIf(!available.ok)("fused native kernels", () => {
  test("rmsNorm: value and gradients agree with the TensorFlow.js composition (any width)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 1000 }), (rows, d, seed) => {
        const x = tf.randomNormal([rows, d], 0, 2, "float32", seed)
        const g = tf.randomNormal([d], 1, 0.5, "float32", seed + 1)
        const probe = tf.randomNormal([rows, d], 0, 1, "float32", seed + 2)
        const { fused, composed } = bothWays(() => valueAndGrads(([a, b]) => rmsNorm(a!, b!, 1e-6), [x, g], probe))
        tf.dispose([x, g, probe])
        return close(fused, composed, 2e-5)
      }),
      { numRuns: 30 },
    )
  })

  test("swiglu: value and gradients agree with the TensorFlow.js composition, also at large |gate|", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.double({ min: 0.1, max: 60, noNaN: true }), fc.integer({ min: 0, max: 1000 }), (n, spread, seed) => {
        const a = tf.randomNormal([n], 0, spread, "float32", seed)
        const b = tf.randomNormal([n], 0, 1, "float32", seed + 1)
        const probe = tf.randomNormal([n], 0, 1, "float32", seed + 2)
        const { fused, composed } = bothWays(() => valueAndGrads(([p, q]) => swiglu(p!, q!), [a, b], probe))
        tf.dispose([a, b, probe])
        return close(fused, composed, 1e-5)
      }),
      { numRuns: 30 },
    )
  })

  test("adamw: the native update gives the same bits as the plain loop (any size, scale, clip and decay)", () => {
    const kernels = (available as Extract<typeof available, { ok: true }>).kernels
    const f32 = fc.float({ min: -1e3, max: 1e3, noNaN: true, noDefaultInfinity: true })
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200_000 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.record({
          b1: fc.double({ min: 0, max: 0.999, noNaN: true }),
          b2: fc.double({ min: 0.5, max: 0.99999, noNaN: true }),
          lr: fc.double({ min: 1e-7, max: 1, noNaN: true }),
          eps: fc.constantFrom(1e-8, 1e-6),
          t: fc.integer({ min: 1, max: 5000 }),
          clip: fc.double({ min: 0.01, max: 1, noNaN: true }),
          decay: fc.constantFrom(0, 1e-5, 1e-2),
        }),
        fc.array(f32, { minLength: 1, maxLength: 16 }),
        (n, seed, c, sample) => {
          const rng = new Rng(seed)
          const fill = (scale: number) => Float32Array.from({ length: n }, (_, i) => (i < sample.length ? sample[i]! : rng.normal() * scale))
          const [p, g, m] = [fill(1), fill(10), fill(0.1)]
          const v = Float32Array.from(fill(0.01), Math.abs)
          const step = { b1: c.b1, b2: c.b2, lr: c.lr, eps: c.eps, c1: 1 - c.b1 ** c.t, c2: 1 - c.b2 ** c.t, clip: c.clip, decay: c.decay }
          const plain = [p, g, m, v].map((a) => Float32Array.from(a))
          adamwUpdate(plain[0]!, plain[1]!, plain[2]!, plain[3]!, step)
          kernels.adamw(p, g, m, v, step)
          return [p, m, v].every((a, k) => Buffer.from(a.buffer).equals(Buffer.from(plain[k === 0 ? 0 : k + 1]!.buffer)))
        },
      ),
      { numRuns: 60 },
    )
  })

  test("token log-probs: value and gradient agree with the TensorFlow.js composition, at any width and logit scale", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 700 }),
        fc.double({ min: 0.1, max: 80, noNaN: true }),
        fc.integer({ min: 0, max: 1000 }),
        (N, V, spread, seed) => {
          const logits = tf.randomNormal([N, V], 0, spread, "float32", seed)
          const probe = tf.randomNormal([N], 0, 1, "float32", seed + 1)
          const ids = Array.from({ length: N }, (_, r) => (seed * 7 + r * 13) % V)
          const { fused, composed } = bothWays(() => valueAndGrads(([x]) => tokenLogprobs(x as tf.Tensor2D, ids), [logits], probe))
          tf.dispose([logits, probe])
          return close(fused, composed, 2e-5) && fused.every((a) => a.every(Number.isFinite))
        },
      ),
      { numRuns: 40 },
    )
  })

  /** A model's hidden states at the real (unpadded) positions (zero elsewhere), and the gradients of a probe of them. */
  const modelValueAndGrads = (model: TransformerModel, rows: ReadonlyArray<ReadonlyArray<number>>, seed: number): Array<Float32Array> => {
    const B = rows.length
    const T = Math.max(...rows.map((r) => r.length))
    const pads = rows.map((r) => T - r.length)
    const ids = tf.tensor2d(rows.flatMap((r, b) => [...Array<number>(pads[b]!).fill(0), ...r]), [B, T], "int32")
    const real = tf.tensor2d(Float32Array.from({ length: B * T }, (_, i) => (i % T >= pads[Math.floor(i / T)]! ? 1 : 0)), [B * T, 1])
    const probe = tf.mul(tf.randomNormal([B * T, model.config.dModel], 0, 1, "float32", seed + 1), real)
    let states = new Float32Array()
    const { value, grads } = tf.variableGrads(() => {
      const { hidden } = model.hidden(ids, { padLengths: pads })
      states = Float32Array.from(tf.tidy(() => tf.mul(hidden, real)).dataSync())
      return tf.sum(tf.mul(hidden, probe)) as tf.Scalar
    }, model.variables as Array<tf.Variable>)
    // hidden() stops before the final norm, whose gain gets no gradient.
    const used = model.variables.filter((v) => grads[v.name] !== undefined)
    expect(used.length).toBe(model.variables.length - 1)
    const out = [states, ...used.map((v) => Float32Array.from(grads[v.name]!.dataSync()))]
    tf.dispose([ids, real, probe, value, ...Object.values(grads)])
    return out
  }

  const configs: ReadonlyArray<ModelConfig> = [
    microConfig,
    { ...microConfig, dModel: 64, nHeads: 2, nKvHeads: 1, dFf: 40, nLayers: 1 },
    { ...microConfig, dModel: 48, nHeads: 3, nKvHeads: 3, dFf: 20, nLayers: 2, headDim: 20 },
  ]

  test("attention: the model's hidden states and every weight's gradient agree, with left padding and grouped heads", () => {
    for (const [c, config] of configs.entries()) {
      const model = new TransformerModel(config, 5 + c)
      try {
        fc.assert(
          fc.property(
            fc.array(fc.array(fc.integer({ min: 0, max: 258 }), { minLength: 1, maxLength: 19 }), { minLength: 1, maxLength: 4 }),
            fc.integer({ min: 0, max: 1000 }),
            (rows, seed) => {
              const { fused, composed } = bothWays(() => modelValueAndGrads(model, rows, seed))
              return close(fused, composed, 1e-4)
            },
          ),
          { numRuns: 8 },
        )
      } finally {
        model.dispose()
      }
    }
  })

  test("decoding: the fused decoder's logits agree with the composed decoder's at every step", () => {
    const model = new TransformerModel({ ...microConfig, nLayers: 2 }, 3)
    try {
      fc.assert(
        fc.property(
          fc.array(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 7 }), { minLength: 1, maxLength: 4 }),
          fc.array(fc.integer({ min: 0, max: 258 }), { minLength: 1, maxLength: 6 }),
          (prompts, continuation) => {
            const B = prompts.length
            const P = Math.max(...prompts.map((p) => p.length))
            const pads = prompts.map((p) => P - p.length)
            const run = () => {
              const cache = KvCache.create(model.config, model.headDim, B, P + continuation.length)
              const decoder = new Decoder(model)
              const steps = [decoder.step(Int32Array.from(prompts.flatMap((p, b) => [...Array<number>(pads[b]!).fill(0), ...p])), B, P, pads, cache)]
              for (const id of continuation) steps.push(decoder.step(Int32Array.from(prompts.map(() => id)), B, 1, pads, cache))
              decoder.dispose()
              cache.dispose()
              return steps
            }
            const { fused, composed } = bothWays(run)
            return close(fused, composed, 1e-5)
          },
        ),
        { numRuns: 10 },
      )
    } finally {
      model.dispose()
    }
  })

  test("decoding: a model whose projections pass the packing limit copies no weights, and gives the packed form's logits", () => {
    const model = new TransformerModel({ ...microConfig, nLayers: 2 }, 5)
    const ids = Int32Array.from([5, 9, 200, 31, 77, 3])
    const decode = (limit: number) => {
      const cache = KvCache.create(model.config, model.headDim, 2, 8)
      const decoder = new Decoder(model, { packedWeightsLimit: limit })
      const before = tf.memory().numBytes
      const first = decoder.step(ids, 2, 3, [0, 0], cache)
      const grown = tf.memory().numBytes - before
      const second = decoder.step(Int32Array.from([4, 8]), 2, 1, [0, 0], cache)
      decoder.dispose()
      cache.dispose()
      return { logits: [first, second], grown }
    }
    try {
      const packed = decode(Number.POSITIVE_INFINITY)
      const unpacked = decode(0)
      const layerBytes = model.weights.layers.reduce((n, l) => n + 4 * (l.wq.size + l.wk.size + l.wv.size + l.wGate.size + l.wUp.size), 0)
      expect(packed.grown).toBeGreaterThanOrEqual(layerBytes)
      expect(unpacked.grown).toBeLessThan(layerBytes)
      expect(close(packed.logits, unpacked.logits, 1e-5)).toBe(true)
    } finally {
      model.dispose()
    }
  })

  test("results are the same bits with 1, 2 or 3 threads", () => {
    const model = new TransformerModel({ ...microConfig, dModel: 64, nHeads: 2, nKvHeads: 1, dFf: 96 }, 7)
    const rng = new Rng(3)
    const rows = Array.from({ length: 6 }, (_, b) => Array.from({ length: 20 + 7 * b }, () => rng.int(259)))
    try {
      const runs = [1, 2, 3].map((threads) => {
        const registered = registerNativeKernels({ threads })
        expect(registered.ok && registered.threads).toBe(threads)
        return modelValueAndGrads(model, rows, 1)
      })
      for (const r of runs.slice(1)) r.forEach((x, i) => expect(Buffer.from(x.buffer).equals(Buffer.from(runs[0]![i]!.buffer))).toBe(true))
    } finally {
      registerNativeKernels({ threads: 2 })
      model.dispose()
    }
  })

  test("a rotary position outside the tables is refused; the decoder and a training pass make larger tables past maxSeqLen", () => {
    const model = new TransformerModel({ ...microConfig, maxSeqLen: 8 }, 1)
    const tables = model.rotaryTables()
    expect(tables.cos.shape).toEqual([8, model.headDim / 2])
    const x = tf.zeros([2, model.config.nHeads * model.headDim]) as tf.Tensor2D
    const kv = tf.zeros([2, model.config.nKvHeads * model.headDim]) as tf.Tensor2D
    const layer = model.weights.layers[0]!
    const layout = { batch: 1, headDim: model.headDim, eps: 1e-6, positions: Int32Array.from([7, 8]), pads: Int32Array.from([0]) }
    expect(() => fusedAttention(x, kv, kv, layer.qNorm, layer.kNorm, tables, layout)).toThrow(/rotary position 8/)
    const cache = KvCache.create(model.config, model.headDim, 1, 12)
    const decoder = new Decoder(model)
    try {
      expect(decoder.step(Int32Array.from({ length: 12 }, () => 65), 1, 12, [0], cache).every(Number.isFinite)).toBe(true)
      expect(model.rotaryTables(12).cos.shape[0]).toBeGreaterThanOrEqual(12)
      expect(model.rotaryTables()).toBe(model.rotaryTables(12))
      // A training forward pass longer than maxSeqLen (a long episode) too, as the composed path allows.
      const long = new TransformerModel({ ...microConfig, maxSeqLen: 8 }, 2)
      try {
        const rows = [Array.from({ length: 20 }, (_, i) => (i * 7) % 259), Array.from({ length: 13 }, (_, i) => (i * 5) % 259)]
        const { fused, composed } = bothWays(() => modelValueAndGrads(long, rows, 4))
        expect(close(fused, composed, 1e-4)).toBe(true)
      } finally {
        long.dispose()
      }
    } finally {
      tf.dispose([x, kv])
      decoder.dispose()
      cache.dispose()
      model.dispose()
    }
  })
})
