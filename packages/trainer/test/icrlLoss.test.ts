import { beforeAll, describe, expect, test } from "bun:test"
import * as tf from "@tensorflow/tfjs-core"
import "@tensorflow/tfjs-backend-cpu"
import fc from "fast-check"
import {
  aggregateLoss,
  aggregationWeights,
  defaultAlgorithmConfig,
  sampleWeights,
  shapingTokenGradient,
  tokenLosses,
  type CalibrationMode,
  type LossAggMode,
  type Role,
} from "@icrl/core"
import { icrlLoss, type LossConfig } from "../src/icrlLoss.ts"

beforeAll(async () => {
  await tf.setBackend("cpu")
})

const T = 6
const logp6 = fc.array(fc.double({ min: -8, max: 0, noNaN: true, noDefaultInfinity: true }), { minLength: T, maxLength: T })
const row = fc.record({
  length: fc.integer({ min: 0, max: T }),
  logp: logp6,
  sampler: logp6,
  ref: logp6,
  advantage: fc.double({ min: -3, max: 3, noNaN: true }),
  transferred: fc.boolean(),
  role: fc.constantFrom<Role>("solver", "critic", "refiner"),
})
const lossConfig = fc.record({
  calibration: fc.constantFrom<CalibrationMode>("token-tis", "seq-geo", "shaping", "none"),
  calibration_cap: fc.double({ min: 0.2, max: 3, noNaN: true }),
  calibration_scope: fc.constantFrom("all" as const, "transferred" as const),
  loss_agg_mode: fc.constantFrom<LossAggMode>("token-mean", "seq-mean-token-mean", "seq-mean-token-sum", "seq-mean-token-sum-norm"),
  per_role: fc.boolean(),
  use_dual_clip: fc.boolean(),
  use_kl_loss: fc.boolean(),
  kl_loss_type: fc.constantFrom("k1" as const, "k2" as const, "k3" as const),
})

const f32 = (x: number) => Math.fround(x)
type Row = { length: number; logp: Array<number>; sampler: Array<number>; advantage: number; transferred: boolean; role: Role }

const maskOf = (rows: ReadonlyArray<Row>) => rows.map((r) => Array.from({ length: T }, (_, t) => (t < r.length ? 1 : 0)))

/** d loss / d logprobs of the tensor loss. */
const gradient = (rows: ReadonlyArray<Row>, config: LossConfig, aggregation?: ReadonlyArray<ReadonlyArray<number>>): Array<Array<number>> => {
  const mask = tf.tensor2d(maskOf(rows))
  const sampler = tf.tensor2d(rows.map((r) => r.sampler))
  const advantages = tf.tensor1d(rows.map((r) => r.advantage))
  const transferred = tf.tensor1d(rows.map((r) => (r.transferred ? 1 : 0)))
  const logp = tf.tensor2d(rows.map((r) => r.logp))
  const lengths = rows.map((r) => r.length)
  const grad = tf.grad((lp: tf.Tensor) =>
    icrlLoss({ logprobs: lp as tf.Tensor2D, samplerLogprobs: sampler, mask, advantages, transferred, lengths, ...(aggregation === undefined ? {} : { aggregation }) }, config).loss,
  )(logp)
  const out = grad.arraySync() as Array<Array<number>>
  tf.dispose([mask, sampler, advantages, transferred, logp, grad])
  return out
}

describe("icrlLoss (tensor) agrees with the core reference functions", () => {
  test("law: per-token losses, importance weights and the aggregate (pooled or per role) match core on random inputs", () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 4 }), lossConfig, (rows, { per_role, ...knobs }) => {
        const config: LossConfig = { ...defaultAlgorithmConfig, ...knobs, kl_loss_coef: 0.05 }
        const groups = per_role ? rows.map((r) => r.role) : undefined
        const lengths = rows.map((r) => r.length)
        const out = tf.tidy(() => {
          const o = icrlLoss(
            {
              logprobs: tf.tensor2d(rows.map((r) => r.logp)),
              samplerLogprobs: tf.tensor2d(rows.map((r) => r.sampler)),
              refLogprobs: tf.tensor2d(rows.map((r) => r.ref)),
              mask: tf.tensor2d(maskOf(rows)),
              advantages: tf.tensor1d(rows.map((r) => r.advantage)),
              transferred: tf.tensor1d(rows.map((r) => (r.transferred ? 1 : 0))),
              lengths,
              aggregation: aggregationWeights(lengths, config.loss_agg_mode, config.loss_scale_factor, groups),
            },
            config,
          )
          return [o.loss, o.tokenLoss, o.weights, o.samplerWeights, o.samplerClipped]
        })
        const [loss, tokenLoss, weights, samplerWeights, samplerClipped] = out.map((x) => x.arraySync()) as [number, number[][], number[][], number[][], number[][]]
        tf.dispose(out)
        const expected = rows.map((r) => {
          const logprobs = r.logp.slice(0, r.length).map(f32)
          return tokenLosses(
            {
              logprobs,
              oldLogprobs: logprobs,
              samplerLogprobs: r.sampler.slice(0, r.length).map(f32),
              refLogprobs: r.ref.slice(0, r.length).map(f32),
              advantage: f32(r.advantage),
              transferred: r.transferred,
            },
            config,
          )
        })
        const tol = (x: number) => 1e-4 * (1 + Math.abs(x))
        rows.forEach((r, i) => {
          for (let t = 0; t < T; t++) {
            const want = t < r.length ? expected[i]!.losses[t]! : 0
            expect(Math.abs(tokenLoss[i]![t]! - want)).toBeLessThan(tol(want))
            const wantW = t < r.length ? expected[i]!.weights[t]! : 0
            expect(Math.abs(weights[i]![t]! - wantW)).toBeLessThan(tol(wantW))
          }
          // The sampler/trainer correction is core's on-policy weight under scope `all`, whatever the config applies.
          const lp = r.logp.slice(0, r.length).map(f32)
          const sampler = r.sampler.slice(0, r.length).map(f32)
          const correction = sampleWeights(lp, sampler, { mode: "token-tis", cap: config.calibration_cap, gamma: 0.1, scope: "all", transferred: false })
          correction.forEach((w, t) => {
            expect(Math.abs(samplerWeights[i]![t]! - w)).toBeLessThan(tol(w))
            const ratio = Math.exp(lp[t]! - sampler[t]!)
            if (Math.abs(Math.log(ratio / config.calibration_cap)) > 1e-4) expect(samplerClipped[i]![t]).toBe(ratio > config.calibration_cap ? 1 : 0)
          })
          for (let t = r.length; t < T; t++) expect(samplerWeights[i]![t]! + samplerClipped[i]![t]!).toBe(0)
        })
        const want = aggregateLoss(expected.map((e) => e.losses), config.loss_agg_mode, config.loss_scale_factor, groups)
        expect(Math.abs(loss - want)).toBeLessThan(tol(want))
      }),
      { numRuns: 200 },
    )
  })

  test("law: the gradient of every weighted token is -A * w * aggregation weight (w detached), under scope `all`", () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 3 }), fc.constantFrom<CalibrationMode>("token-tis", "seq-geo", "none"), fc.boolean(), (rows, calibration, perRole) => {
        const config: LossConfig = { ...defaultAlgorithmConfig, calibration, calibration_scope: "all" }
        const lengths = rows.map((r) => r.length)
        const agg = aggregationWeights(lengths, config.loss_agg_mode, 0, perRole ? rows.map((r) => r.role) : undefined)
        const grad = gradient(rows, config, agg)
        rows.forEach((r, i) => {
          const lp = r.logp.slice(0, r.length).map(f32)
          const w = sampleWeights(lp, r.sampler.slice(0, r.length).map(f32), { mode: calibration, cap: config.calibration_cap, gamma: 0.1, scope: "all", transferred: r.transferred })
          for (let t = 0; t < T; t++) {
            const want = t < r.length ? -f32(r.advantage) * w[t]! * agg[i]![t]! : 0
            expect(Math.abs(grad[i]![t]! - want)).toBeLessThan(1e-4 * (1 + Math.abs(want)))
          }
        })
      }),
      { numRuns: 60 },
    )
  })

  test("law: a transferred token under `shaping` has the gradient of -A p / (p + gamma) (core shapingTokenGradient)", () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 3 }), fc.double({ min: 0.02, max: 1, noNaN: true }), (rows, gamma) => {
        const config: LossConfig = { ...defaultAlgorithmConfig, calibration: "shaping", shaping_gamma: gamma }
        const t2 = rows.map((r) => ({ ...r, transferred: true }))
        const agg = aggregationWeights(t2.map((r) => r.length), config.loss_agg_mode)
        const grad = gradient(t2, config)
        t2.forEach((r, i) => {
          for (let t = 0; t < T; t++) {
            const want = t < r.length ? shapingTokenGradient(f32(r.logp[t]!), f32(r.advantage), gamma) * agg[i]![t]! : 0
            expect(Math.abs(grad[i]![t]! - want)).toBeLessThan(1e-4 * (1 + Math.abs(want)))
          }
        })
      }),
      { numRuns: 60 },
    )
  })
})
