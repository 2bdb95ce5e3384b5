import { beforeAll, describe, expect, test } from "bun:test"
import type { Completion, GenerationRequest } from "@icrl/core"
import fc from "fast-check"
import { ByteTokenizer, encodePrompt, generate, HfTokenizer, modelConfig, rolloutTokenCheck, TransformerModel } from "../src/index.ts"
import { fixtureRoot, useWasm } from "./helpers.ts"

const tok = new ByteTokenizer()
const config = modelConfig("tiny", tok.vocabSize)
const check = rolloutTokenCheck(tok, config)

const request = (prompt: string, stop: ReadonlyArray<string> = []): GenerationRequest => ({ prompt, maxTokens: 24, temperature: 1, seed: 1, stop })

/** A completion as an engine that returns no token ids reports it. */
const withoutIds = (c: Completion): Completion => ({ ...c, tokenIds: c.tokenIds.map(() => -1) })

beforeAll(useWasm)

describe("rolloutTokenCheck", () => {
  test("law: the local sampler's completions pass unchanged; without their ids they re-tokenize to the same ids or are a mismatch, never other ids", () => {
    const model = new TransformerModel(config, 3)
    try {
      fc.assert(
        fc.property(fc.string({ minLength: 1, maxLength: 12 }), fc.nat(1000), fc.constantFrom<ReadonlyArray<string>>([], ["\n"], ["=", " "]), (prompt, seed, stop) => {
          const r = { ...request(prompt, stop), seed }
          const [c] = generate(model, tok, [r])
          expect(check(r, c!)).toEqual({ kind: "ok", completion: c! })
          const bare = check(r, withoutIds(c!))
          if (bare.kind === "ok") expect(bare.completion).toEqual(c!)
          else expect(c!.text.includes("\uFFFD") || c!.finishReason === "stop").toBe(true)
        }),
        { numRuns: 60, seed: 11 },
      )
    } finally {
      model.dispose()
    }
  })

  test("without ids, the text re-tokenizes with what the engine cut: end-of-sequence or the stop string", () => {
    const r = request("Problem: 1+1", ["\n\n"])
    const promptTokens = encodePrompt(tok, r.prompt).length
    for (const ids of [tok.encode(" 2"), [...tok.encode(" 2"), tok.eosId], tok.encode(" 2\n\n")]) {
      const c: Completion = { text: " 2", tokenIds: ids, logprobs: ids.map(() => -0.3), promptTokens, finishReason: ids.length === 2 ? "length" : "stop" }
      expect(check(r, withoutIds(c))).toEqual({ kind: "ok", completion: c })
    }
  })

  test("a prompt the engine read as other tokens, ids that decode to other text, ids the sampler never draws and text that does not re-tokenize are mismatches", () => {
    const r = request("Problem: 1+1")
    const ids = tok.encode(" 2")
    const good: Completion = { text: " 2", tokenIds: ids, logprobs: ids.map(() => -0.1), promptTokens: encodePrompt(tok, r.prompt).length, finishReason: "length" }
    expect(check(r, good).kind).toBe("ok")
    const cases: Array<[Completion, string]> = [
      [{ ...good, promptTokens: good.promptTokens + 1 }, "the engine read the prompt as 14 tokens, the trainer's tokenizer as 13"],
      [{ ...good, tokenIds: tok.encode(" 3") }, 'the token ids decode to " 3", the engine\'s text is " 2"'],
      [{ ...good, tokenIds: [tok.padId, ids[1]!] }, `token id ${tok.padId} is not one the sampler can draw`],
      [{ ...good, tokenIds: [ids[0]!, 400] }, "token id 400 is not one the sampler can draw from the model's 259 output ids"],
      [withoutIds({ ...good, tokenIds: [1, 2, 3], logprobs: [-1, -1, -1] }), 'the text " 2" does not re-tokenize to its 3 log-probs'],
    ]
    for (const [completion, reason] of cases) {
      const result = check(r, completion)
      expect(result.kind).toBe("mismatch")
      expect(result.kind === "mismatch" && result.reason).toContain(reason)
    }
  })

  test("a Qwen3 tokenizer: the model's output ids beyond the tokenizer's vocabulary are drawable, and the prompt is counted through the chat template", () => {
    const hf = HfTokenizer.load(`${fixtureRoot}/mha-tied-f16`)
    const vocabSize = hf.vocabSize + 20
    const qwen = rolloutTokenCheck(hf, { vocabSize, maxSeqLen: 256 })
    const r = request("What is 2+2?")
    const ids = [...hf.encode("4"), vocabSize - 1]
    const c: Completion = { text: "4", tokenIds: ids, logprobs: ids.map(() => -1), promptTokens: encodePrompt(hf, r.prompt).length, finishReason: "length" }
    expect(encodePrompt(hf, r.prompt).length).toBeGreaterThan(hf.encode(r.prompt).length)
    expect(qwen(r, c).kind).toBe("ok")
  })
})
