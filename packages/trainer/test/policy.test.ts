import { beforeAll, describe, expect, test } from "bun:test"
import * as tf from "@tensorflow/tfjs-core"
import { PolicyError } from "@icrl/core"
import { Effect } from "effect"
import { ByteTokenizer, completionLogprobs, encodePrompt, LocalPolicy, scoringLayout, TransformerModel } from "../src/index.ts"
import { maxAbsDiff, microConfig, useWasm } from "./helpers.ts"

const tok = new ByteTokenizer()
let model: TransformerModel

beforeAll(async () => {
  await useWasm()
  model = new TransformerModel(microConfig, 21)
})

describe("LocalPolicy", () => {
  test("score() of generated token ids reproduces the sampling log-probs", () => {
    const policy = new LocalPolicy(model, tok, { maxBatchSize: 2, scoreBatchSize: 2 })
    const requests = ["a", "bb", "ccc"].map((prompt, i) => ({ prompt, maxTokens: 6, temperature: 1, seed: i }))
    const completions = Effect.runSync(policy.generate(requests))
    const scores = Effect.runSync(policy.score(requests.map((r, i) => ({ prompt: r.prompt, tokenIds: completions[i]!.tokenIds }))))
    completions.forEach((c, i) => {
      expect(scores[i]!.length).toBe(c.tokenIds.length)
      expect(maxAbsDiff(scores[i]!, c.logprobs)).toBeLessThan(1e-5)
    })
    expect(policy.name).toBe("local")
    expect(policy.encodePrompt("a")).toEqual(encodePrompt(tok, "a"))
  })

  test("failures surface as PolicyError values", () => {
    const policy = new LocalPolicy(model, tok)
    const exit = Effect.runSyncExit(policy.generate([{ prompt: "x", maxTokens: -1, temperature: 0 }]))
    expect(exit._tag).toBe("Failure")
    const error = Effect.runSync(Effect.flip(policy.generate([{ prompt: "x", maxTokens: -1, temperature: 0 }])))
    expect(error).toBeInstanceOf(PolicyError)
    expect(error.message).toMatch(/maxTokens/)
  })
})

describe("completionLogprobs", () => {
  const batch = [
    { promptIds: encodePrompt(tok, "long prompt here"), completionIds: tok.encode("xy") },
    { promptIds: encodePrompt(tok, "p"), completionIds: tok.encode("longer completion") },
    { promptIds: encodePrompt(tok, "mid"), completionIds: [] },
  ]

  test("rows are aligned, right-padded with mask 0, and independent of the other rows", () => {
    const { logprobs, mask } = completionLogprobs(model, batch)
    expect(logprobs.shape).toEqual([3, 17])
    const lp = logprobs.arraySync()
    const m = mask.arraySync()
    batch.forEach((ex, i) => {
      expect(m[i]!.reduce((a, b) => a + b, 0)).toBe(ex.completionIds.length)
      lp[i]!.forEach((x, t) => (t >= ex.completionIds.length ? expect(Math.abs(x)).toBe(0) : expect(x).toBeLessThan(0)))
      const alone = completionLogprobs(model, [ex])
      const a = alone.logprobs.arraySync()[0]!
      expect(maxAbsDiff(a.slice(0, ex.completionIds.length), lp[i]!.slice(0, ex.completionIds.length))).toBeLessThan(1e-5)
      tf.dispose([alone.logprobs, alone.mask])
    })
    tf.dispose([logprobs, mask])
  })

  test("is differentiable with respect to every variable", () => {
    const { value, grads } = tf.variableGrads(
      () => tf.tidy(() => tf.neg(tf.sum(completionLogprobs(model, batch).logprobs)) as tf.Scalar),
      model.variables as Array<tf.Variable>,
    )
    expect(Object.keys(grads).length).toBe(model.variables.length)
    for (const g of Object.values(grads)) expect(tf.sum(tf.abs(g)).dataSync()[0]!).toBeGreaterThan(0)
    tf.dispose([value, ...Object.values(grads)])
  })

  test("prompts longer than the model allows lose their start; completions too long are rejected", () => {
    const long = { promptIds: Array<number>(100).fill(65), completionIds: [66, 67] }
    const layout = scoringLayout([long], microConfig.maxSeqLen, 0)
    expect(layout.promptLengths).toEqual([microConfig.maxSeqLen - 2])
    expect(() => scoringLayout([{ promptIds: [1], completionIds: Array<number>(64).fill(1) }], 64, 0)).toThrow(/maxSeqLen/)
  })
})
