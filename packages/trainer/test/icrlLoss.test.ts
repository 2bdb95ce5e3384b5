import { beforeAll, describe, expect, test } from "bun:test"
import * as tf from "@tensorflow/tfjs-core"
import "@tensorflow/tfjs-backend-cpu"
import fc from "fast-check"
import {
  aggregateLoss,
  aggregationWeights,
  calibrationWeights,
  defaultAlgorithmConfig,
  klEstimate,
  ppoClipToken,
  transferTokenLoss,
  type CalibrationMode,
  type LossAggMode,
} from "@icrl/core"
import { icrlLoss, type LossConfig } from "../src/icrlLoss.ts"

beforeAll(async () => {
  await tf.setBackend("cpu")
})

const row = fc.record({
  length: fc.integer({ min: 0, max: 6 }),
  logp: fc.array(fc.double({ min: -8, max: 0, noNaN: true, noDefaultInfinity: true }), { minLength: 6, maxLength: 6 }),
  old: fc.array(fc.double({ min: -8, max: 0, noNaN: true, noDefaultInfinity: true }), { minLength: 6, maxLength: 6 }),
  ref: fc.array(fc.double({ min: -8, max: 0, noNaN: true, noDefaultInfinity: true }), { minLength: 6, maxLength: 6 }),
  advantage: fc.double({ min: -3, max: 3, noNaN: true }),
  transferred: fc.boolean(),
})
const lossConfig = fc.record({
  calibration: fc.constantFrom<CalibrationMode>("token-tis", "seq-geo", "shaping", "none"),
  calibration_cap: fc.double({ min: 0.2, max: 3, noNaN: true }),
  loss_agg_mode: fc.constantFrom<LossAggMode>("token-mean", "seq-mean-token-mean", "seq-mean-token-sum", "seq-mean-token-sum-norm"),
  use_dual_clip: fc.boolean(),
  use_kl_loss: fc.boolean(),
  kl_loss_type: fc.constantFrom("k1" as const, "k2" as const, "k3" as const),
})

const f32 = (x: number) => Math.fround(x)

describe("icrlLoss (tensor) agrees with the core reference functions", () => {
  test("law: per-token losses, calibration weights and the aggregate match core on random inputs", () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 4 }), lossConfig, (rows, knobs) => {
        const config: LossConfig = { ...defaultAlgorithmConfig, ...knobs, kl_loss_coef: 0.05 }
        const T = 6
        const mask = rows.map((r) => Array.from({ length: T }, (_, t) => (t < r.length ? 1 : 0)))
        const out = tf.tidy(() => {
          const o = icrlLoss(
            {
              logprobs: tf.tensor2d(rows.map((r) => r.logp)),
              oldLogprobs: tf.tensor2d(rows.map((r) => r.old)),
              refLogprobs: tf.tensor2d(rows.map((r) => r.ref)),
              mask: tf.tensor2d(mask),
              advantages: tf.tensor1d(rows.map((r) => r.advantage)),
              transferred: tf.tensor1d(rows.map((r) => (r.transferred ? 1 : 0))),
              lengths: rows.map((r) => r.length),
            },
            config,
          )
          return [o.loss, o.tokenLoss, o.weights]
        })
        const [loss, tokenLoss, weights] = out.map((x) => x.arraySync()) as [number, number[][], number[][]]
        tf.dispose(out)
        const expected = rows.map((r) => {
          const logp = r.logp.slice(0, r.length).map(f32)
          const old = r.old.slice(0, r.length).map(f32)
          const ref = r.ref.slice(0, r.length).map(f32)
          const w = r.transferred
            ? calibrationWeights(logp, old, { mode: config.calibration, cap: config.calibration_cap, gamma: config.shaping_gamma })
            : logp.map(() => 1)
          const losses = logp.map((lp, t) => {
            const base = r.transferred
              ? transferTokenLoss(f32(r.advantage), w[t]!)
              : ppoClipToken(lp, old[t]!, f32(r.advantage), {
                  clipLow: config.clip_ratio_low,
                  clipHigh: config.clip_ratio_high,
                  ...(config.use_dual_clip ? { dualClip: config.clip_ratio_c } : {}),
                }).loss
            return base + (config.use_kl_loss ? config.kl_loss_coef * klEstimate(lp, ref[t]!, config.kl_loss_type) : 0)
          })
          return { w, losses }
        })
        const tol = (x: number) => 1e-4 * (1 + Math.abs(x))
        rows.forEach((r, i) => {
          for (let t = 0; t < T; t++) {
            const want = t < r.length ? expected[i]!.losses[t]! : 0
            expect(Math.abs(tokenLoss[i]![t]! - want)).toBeLessThan(tol(want))
            const wantW = t < r.length ? expected[i]!.w[t]! : 0
            expect(Math.abs(weights[i]![t]! - wantW)).toBeLessThan(tol(wantW))
          }
        })
        const want = aggregateLoss(expected.map((e) => e.losses), config.loss_agg_mode, config.loss_scale_factor)
        expect(Math.abs(loss - want)).toBeLessThan(tol(want))
      }),
      { numRuns: 150 },
    )
  })

  test("law: the gradient of a transferred token is -A * w * aggregation weight (w detached)", () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 3 }), (rows) => {
        const config: LossConfig = { ...defaultAlgorithmConfig, calibration: "token-tis", calibration_cap: 1 }
        const T = 6
        const t2 = rows.map((r) => ({ ...r, transferred: true }))
        const mask = tf.tensor2d(t2.map((r) => Array.from({ length: T }, (_, t) => (t < r.length ? 1 : 0))))
        const old = tf.tensor2d(t2.map((r) => r.old))
        const lengths = t2.map((r) => r.length)
        const advantages = tf.tensor1d(t2.map((r) => r.advantage))
        const transferred = tf.ones([t2.length]) as tf.Tensor1D
        const logp = tf.tensor2d(t2.map((r) => r.logp))
        const grad = tf.grad((lp: tf.Tensor) =>
          icrlLoss({ logprobs: lp as tf.Tensor2D, oldLogprobs: old, mask, advantages, transferred, lengths }, config).loss,
        )(logp).arraySync() as number[][]
        const agg = aggregationWeights(lengths, config.loss_agg_mode)
        t2.forEach((r, i) => {
          const w = calibrationWeights(r.logp.slice(0, r.length).map(f32), r.old.slice(0, r.length).map(f32), { mode: "token-tis", cap: 1, gamma: 0.1 })
          for (let t = 0; t < T; t++) {
            const want = t < r.length ? -f32(r.advantage) * w[t]! * agg[i]![t]! : 0
            expect(Math.abs(grad[i]![t]! - want)).toBeLessThan(1e-4 * (1 + Math.abs(want)))
          }
        })
        tf.dispose([mask, old, advantages, transferred, logp])
      }),
      { numRuns: 60 },
    )
  })
})
