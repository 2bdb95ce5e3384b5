import { beforeAll, describe, expect, test } from "bun:test"
import * as tf from "@tensorflow/tfjs-core"
import fc from "fast-check"
import { AdamW, ByteTokenizer, defaultOptimizerConfig, demonstrationExample, learningRate, rlOptimizer, sftLoss, TransformerModel } from "../src/index.ts"
import { microConfig, useWasm } from "./helpers.ts"

beforeAll(useWasm)

const quadratic = (w: tf.Variable, target: ReadonlyArray<number>) => () =>
  tf.tidy(() => tf.sum(tf.square(tf.sub(w, tf.tensor1d(target.slice())))) as tf.Scalar)

describe("learningRate", () => {
  test("warmup rises linearly to the peak, cosine decays to the floor and stays there", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 200 }), fc.double({ min: 0, max: 1, noNaN: true }), (warmup, decay, ratio) => {
        const config = { ...defaultOptimizerConfig, lr: 1, warmupSteps: warmup, totalSteps: warmup + decay, minLrRatio: ratio }
        const close = (a: number, b: number) => Math.abs(a - b) < 1e-9
        if (!close(learningRate(config, warmup), 1)) return false
        if (!close(learningRate(config, 1), 1 / warmup)) return false
        if (!close(learningRate(config, warmup + decay), ratio)) return false
        if (!close(learningRate(config, warmup + decay + 10), ratio)) return false
        for (let s = warmup; s < warmup + decay; s++) if (learningRate(config, s + 1) > learningRate(config, s) + 1e-12) return false
        return true
      }),
    )
  })
})

describe("AdamW", () => {
  test("matches a plain-number AdamW with clipping, decoupled decay and the schedule on a quadratic", () => {
    const target = [3, -4, 2]
    const w = tf.variable(tf.tensor2d([[0.3, 0.1, -0.4]]), true, "adamw-test-w")
    const cfg = { lr: 0.05, betas: [0.9, 0.99] as const, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 1, warmupSteps: 3, totalSteps: 20, minLrRatio: 0.1, gradAccumulation: 1 }
    const opt = new AdamW([w], cfg)
    const ref = [0.3, 0.1, -0.4]
    const m = [0, 0, 0]
    const v = [0, 0, 0]
    let clipped = 0
    for (let t = 1; t <= 20; t++) {
      const stats = opt.step(() => tf.tidy(() => tf.sum(tf.square(tf.sub(w, tf.tensor2d([target])))) as tf.Scalar))
      const g = ref.map((x, i) => 2 * (x - target[i]!))
      const norm = Math.hypot(...g)
      expect(Math.abs(stats.gradNorm - norm)).toBeLessThan(1e-3 * norm)
      const clip = norm > 1 ? 1 / (norm + 1e-6) : 1
      if (clip < 1) clipped++
      const lr = learningRate(cfg, t)
      expect(stats.lr).toBeCloseTo(lr, 10)
      for (let i = 0; i < 3; i++) {
        const gi = g[i]! * clip
        m[i] = 0.9 * m[i]! + 0.1 * gi
        v[i] = 0.99 * v[i]! + 0.01 * gi * gi
        const mh = m[i]! / (1 - 0.9 ** t)
        const vh = v[i]! / (1 - 0.99 ** t)
        ref[i] = ref[i]! - lr * (mh / (Math.sqrt(vh) + 1e-8)) - lr * 0.1 * ref[i]!
      }
    }
    expect(clipped).toBeGreaterThan(5)
    const got = Array.from(w.dataSync())
    got.forEach((x, i) => expect(Math.abs(x - ref[i]!)).toBeLessThan(1e-4))
    opt.dispose()
    w.dispose()
  })

  test("rejects invalid hyper-parameters, naming the field", () => {
    const w = tf.variable(tf.zeros([2]), true, "adamw-invalid-w")
    expect(() => new AdamW([w], { eps: 0 })).toThrow(/eps/)
    expect(() => new AdamW([w], { gradAccumulation: 0 })).toThrow(/gradAccumulation/)
    expect(() => new AdamW([w], { lr: -1 })).toThrow(/lr/)
    w.dispose()
  })

  test("non-finite loss or gradient skips the update and leaves the variables unchanged", () => {
    const w = tf.variable(tf.tensor1d([1, 2]), true, "adamw-nan-w")
    const opt = new AdamW([w], { lr: 0.1 })
    const stats = opt.step(() => tf.tidy(() => tf.mul(tf.sum(w), tf.scalar(Number.NaN)) as tf.Scalar))
    expect(stats.skipped).toBe(true)
    expect(stats.applied).toBe(false)
    expect(Array.from(w.dataSync())).toEqual([1, 2])
    expect(opt.skippedCount).toBe(1)
    expect(opt.stepCount).toBe(0)
    const inf = opt.step(() => tf.tidy(() => tf.sum(tf.mul(w, tf.tensor1d([Infinity, 1]))) as tf.Scalar))
    expect(inf.skipped).toBe(true)
    expect(opt.step(quadratic(w, [0, 0])).applied).toBe(true)
    expect(opt.stepCount).toBe(1)
    opt.dispose()
    w.dispose()
  })

  test("gradient accumulation over two halves equals one step on the whole batch", () => {
    const tok = new ByteTokenizer()
    const demos = ["1+1=2", "2+2=4", "3+3=6", "4+4=8"].map((s) => demonstrationExample(tok, { role: "solver", prompt: s.slice(0, 4), completion: s.slice(4) }))
    const a = new TransformerModel(microConfig, 1)
    const b = new TransformerModel(microConfig, 1)
    const optA = new AdamW(a.variables, { lr: 1e-2, gradAccumulation: 1 })
    const optB = new AdamW(b.variables, { lr: 1e-2, gradAccumulation: 2 })
    optA.step(() => sftLoss(a, demos))
    expect(optB.step(() => sftLoss(b, demos.slice(0, 2))).applied).toBe(false)
    expect(optB.step(() => sftLoss(b, demos.slice(2))).applied).toBe(true)
    // All completions have the same length, so the mean of the halves' means is the whole mean.
    a.variables.forEach((v, i) => {
      const x = v.dataSync()
      const y = b.variables[i]!.dataSync()
      for (let j = 0; j < x.length; j++) expect(Math.abs(x[j]! - y[j]!)).toBeLessThan(1e-5)
    })
    for (const o of [optA, optB]) o.dispose()
    a.dispose()
    b.dispose()
  })

  test("applyGradients with a step's own gradients makes the same update as step()", () => {
    const tok = new ByteTokenizer()
    const batch = ["ab", "cde"].map((s) => demonstrationExample(tok, { role: "solver", prompt: s, completion: s }))
    const a = new TransformerModel(microConfig, 3)
    const b = new TransformerModel(microConfig, 3)
    const optA = new AdamW(a.variables, { lr: 1e-2, maxGradNorm: 0.1 })
    const optB = new AdamW(b.variables, { lr: 1e-2, maxGradNorm: 0.1 })
    const sa = optA.step(() => sftLoss(a, batch))
    const { value, grads } = tf.variableGrads(() => sftLoss(b, batch), b.variables as Array<tf.Variable>)
    const sb = optB.applyGradients(b.variables.map((v) => grads[v.name]!), value.dataSync()[0]!)
    tf.dispose([value, ...Object.values(grads)])
    expect(sb).toEqual(sa)
    a.variables.forEach((v, i) => expect(Array.from(b.variables[i]!.dataSync())).toEqual(Array.from(v.dataSync())))
    expect(() => optB.applyGradients([], 0)).toThrow(/gradients/)
    for (const o of [optA, optB]) o.dispose()
    a.dispose()
    b.dispose()
  })

  test("the tensor count stays flat over 1,000 steps", () => {
    const w = tf.variable(tf.randomNormal([8, 8], 0, 1, "float32", 1), true, "adamw-flat-w")
    const x = tf.randomNormal([4, 8], 0, 1, "float32", 2)
    const opt = new AdamW([w], { lr: 1e-3, gradAccumulation: 2, maxGradNorm: 0.5 })
    const loss = () => tf.tidy(() => tf.mean(tf.square(tf.matMul(x, w))) as tf.Scalar)
    opt.step(loss)
    opt.step(loss)
    const before = tf.memory().numTensors
    for (let i = 0; i < 1000; i++) opt.step(loss)
    expect(tf.memory().numTensors).toBe(before)
    opt.dispose()
    tf.dispose([w, x])
  })

  test("model training steps keep the tensor count flat", () => {
    const tok = new ByteTokenizer()
    const model = new TransformerModel(microConfig, 2)
    const batch = ["ab", "cde"].map((s) => demonstrationExample(tok, { role: "solver", prompt: s, completion: s }))
    const opt = new AdamW(model.variables, { lr: 1e-3 })
    opt.step(() => sftLoss(model, batch))
    const before = tf.memory().numTensors
    for (let i = 0; i < 30; i++) opt.step(() => sftLoss(model, batch))
    expect(tf.memory().numTensors).toBe(before)
    opt.dispose()
    model.dispose()
  })
})

describe("rlOptimizer", () => {
  test("fresh moments take full-size steps on a tiny gradient; inherited moments scale the step with the gradient", () => {
    const lr = 1e-3
    const tiny = [1e-3, -1e-3, 2e-3, -5e-4]
    const moved = (inherit: boolean): Array<number> => {
      const w = tf.variable(tf.zeros([4]))
      // Moments of a run whose gradients were of size 1 (converged EMAs, long past bias correction).
      const inherited = { step: 400, skippedSteps: 3, m: [new Float32Array(4)], v: [new Float32Array([1, 1, 1, 1])] }
      const opt = rlOptimizer([w], lr, inherit ? inherited : undefined)
      const g = tf.tensor1d(tiny)
      opt.applyGradients([g], 0)
      expect(opt.stepCount).toBe(inherit ? 401 : 1)
      expect(opt.skippedCount).toBe(0)
      const out = Array.from(w.dataSync()).map((x) => -x)
      tf.dispose([w, g])
      return out
    }
    const fresh = moved(false)
    fresh.forEach((d, i) => expect(d).toBeCloseTo(Math.sign(tiny[i]!) * lr, 6))
    const continued = moved(true)
    continued.forEach((d, i) => {
      expect(Math.sign(d)).toBe(Math.sign(tiny[i]!))
      expect(Math.abs(d)).toBeLessThan(lr / 100)
    })
    // Proportional to the gradient, not its sign.
    expect(continued[2]! / continued[0]!).toBeCloseTo(2, 3)
  })

  test("the inherited first moment is not continued: with no gradient the weights stay put", () => {
    const w = tf.variable(tf.zeros([3]))
    // The warm start's momentum points somewhere; its gradient scale is 1.
    const inherited = { step: 400, skippedSteps: 0, m: [new Float32Array([0.5, -0.5, 1])], v: [new Float32Array([1, 1, 1])] }
    const opt = rlOptimizer([w], 3e-3, inherited)
    const g = tf.zeros([3])
    for (let i = 0; i < 5; i++) opt.applyGradients([g], 0)
    expect(Array.from(w.dataSync())).toEqual([0, 0, 0])
    for (const v of opt.getState().v[0]!) expect(v).toBeCloseTo(0.999 ** 5, 6) // the gradient scale carries on
    opt.dispose()
    tf.dispose([w, g])
  })
})
