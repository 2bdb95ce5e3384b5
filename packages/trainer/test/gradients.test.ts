import { beforeAll, describe, expect, test } from "bun:test"
import * as tf from "@tensorflow/tfjs-core"
import fc from "fast-check"
import { ATTENTION_AREA_BUDGET, ByteTokenizer, encodePrompt, microBatches, modelConfig, selectBackend, sftLoss, summedGradients, TransformerModel } from "../src/index.ts"

beforeAll(async () => {
  await selectBackend("wasm")
})

describe("microBatches", () => {
  test("law: a partition of the rows, each part within the token and attention budgets unless it is one row", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 1500 }), { maxLength: 60 }), fc.integer({ min: 64, max: 20000 }), (lengths, budget) => {
        const parts = microBatches(lengths, budget)
        expect(parts.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i))
        for (const p of parts) {
          const w = Math.max(...p.map((i) => lengths[i]!))
          if (p.length > 1) {
            expect(w * p.length).toBeLessThanOrEqual(budget)
            expect(w * w * p.length).toBeLessThanOrEqual(ATTENTION_AREA_BUDGET)
          }
        }
      }),
    )
  })
})

describe("summedGradients", () => {
  test("micro-batch gradients weighted by token share sum to the whole batch's gradient", () => {
    const tok = new ByteTokenizer()
    const model = new TransformerModel(modelConfig("tiny", tok.vocabSize), 3)
    const batch = ["a", "bcd", "efghij", "k"].map((c, i) => ({ promptIds: encodePrompt(tok, `p${i}:`), completionIds: tok.encode(c) }))
    const total = batch.reduce((n, ex) => n + ex.completionIds.length, 0)
    const whole = summedGradients(model.variables, [() => sftLoss(model, batch)])
    const parts = [[0, 1], [2], [3]].map((rows) => () => {
      const part = rows.map((i) => batch[i]!)
      return tf.mul(sftLoss(model, part), part.reduce((n, ex) => n + ex.completionIds.length, 0) / total) as tf.Scalar
    })
    const split = summedGradients(model.variables, parts)
    expect(split.loss).toBeCloseTo(whole.loss, 5)
    whole.grads.forEach((g, i) => {
      const a = g.dataSync()
      const b = split.grads[i]!.dataSync()
      for (let k = 0; k < a.length; k++) expect(Math.abs(a[k]! - b[k]!)).toBeLessThan(1e-5 * (1 + Math.abs(a[k]!)))
    })
    tf.dispose([...whole.grads, ...split.grads])
    model.dispose()
  })
})
