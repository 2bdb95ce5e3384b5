import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { type GenerationRequest, RolloutFleet } from "@icrl/core"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  ByteTokenizer,
  generate,
  LoraAdapters,
  modelConfig,
  type ModelServer,
  rolloutTokenCheck,
  saveCheckpoint,
  saveLoraAdapter,
  startServer,
  TransformerModel,
} from "../src/index.ts"
import { useWasm } from "./helpers.ts"

const tok = new ByteTokenizer()
const config = modelConfig("tiny", tok.vocabSize)
let root: string
let model: TransformerModel
let server: ModelServer
let closed: ModelServer | undefined
let adapterDir: string

const post = (base: string, path: string, body: unknown): Promise<Response> =>
  fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })

const completion = async (model: string, seed: number): Promise<{ ids: Array<number>; logprobs: Array<number> }> => {
  const response = await post(server.baseUrl, "/completions", { model, prompt: "Problem: 2+3\nSolution:", max_tokens: 12, temperature: 1, seed, logprobs: 1, return_tokens_as_token_ids: true })
  const body: any = await response.json()
  expect(response.status).toBe(200)
  const lp = body.choices[0].logprobs
  return { ids: lp.tokens.map((t: string) => Number(t.slice("token_id:".length))), logprobs: lp.token_logprobs }
}

const local = (m: TransformerModel, seed: number) => {
  const [c] = generate(m, tok, [{ prompt: "Problem: 2+3\nSolution:", maxTokens: 12, temperature: 1, seed }])
  return { ids: [...c!.tokenIds], logprobs: [...c!.logprobs] }
}

/** Adapters with every matrix drawn at random (a fresh adapter's zero B would change nothing). */
const randomAdapters = (seed: number): LoraAdapters => {
  let state = seed
  return new LoraAdapters(config, { rank: 2, alpha: 4, targets: ["q", "v", "up"] }, 0, (_name, shape) =>
    Float32Array.from({ length: shape[0]! * shape[1]! }, () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.8),
  )
}

beforeAll(async () => {
  await useWasm()
  root = mkdtempSync(join(tmpdir(), "icrl-served-"))
  model = new TransformerModel(config, 1)
  const withAdapter = new TransformerModel(config, 1)
  withAdapter.attachLora(randomAdapters(7))
  adapterDir = join(root, "adapter")
  saveLoraAdapter(withAdapter, adapterDir)
  withAdapter.dispose()
  server = startServer({ model, tokenizer: tok, modelName: "tiny", port: 0, allowWeightUpdates: true, maxAdapters: 2 })
  closed = startServer({ model, tokenizer: tok, modelName: "tiny", port: 0 })
})

afterAll(async () => {
  await server.close()
  await closed?.close()
  model.dispose()
  rmSync(root, { recursive: true, force: true })
})

describe("serve: LoRA adapters loaded at run time", () => {
  test("a loaded adapter is listed and sampled exactly as the local sampler with it attached; the base model is unchanged", async () => {
    expect((await post(server.baseUrl, "/load_lora_adapter", { lora_name: "step-1", lora_path: adapterDir })).status).toBe(200)
    const models: any = await (await fetch(`${server.baseUrl}/models`)).json()
    expect(models.data.map((m: any) => [m.id, m.parent])).toEqual([
      ["tiny", null],
      ["step-1", "tiny"],
    ])
    const reference = new TransformerModel(config, 1)
    try {
      const base = local(reference, 3)
      reference.attachLora(randomAdapters(7))
      const adapted = local(reference, 3)
      expect(adapted.ids).not.toEqual(base.ids)
      expect(await completion("step-1", 3)).toEqual(adapted)
      expect(await completion("tiny", 3)).toEqual(base)
    } finally {
      reference.dispose()
    }
  })

  test("a name in use, a folder that is no adapter, too many adapters and an unknown unload are refused; an unloaded adapter is gone", async () => {
    const again = await post(server.baseUrl, "/load_lora_adapter", { lora_name: "step-1", lora_path: adapterDir })
    expect(again.status).toBe(400)
    expect(((await again.json()) as any).error.message).toBe("The lora adapter 'step-1' has already been loaded.")
    const missing = await post(server.baseUrl, "/load_lora_adapter", { lora_name: "x", lora_path: join(root, "nowhere") })
    expect(missing.status).toBe(400)
    const error = ((await missing.json()) as any).error
    expect(error.param).toBe("lora_path")
    expect(error.message).toContain(join(root, "nowhere", "adapter_config.json"))
    expect((await post(server.baseUrl, "/load_lora_adapter", { lora_name: "step-2", lora_path: adapterDir })).status).toBe(200)
    const third = await post(server.baseUrl, "/load_lora_adapter", { lora_name: "step-3", lora_path: adapterDir })
    expect(((await third.json()) as any).error.code).toBe("too_many_adapters")
    expect((await post(server.baseUrl, "/load_lora_adapter", { lora_name: "", lora_path: adapterDir })).status).toBe(400)
    for (const name of ["step-1", "step-2"]) expect((await post(server.baseUrl, "/unload_lora_adapter", { lora_name: name })).status).toBe(200)
    expect((await post(server.baseUrl, "/unload_lora_adapter", { lora_name: "step-1" })).status).toBe(404)
    const gone = await post(server.baseUrl, "/completions", { model: "step-1", prompt: "x", max_tokens: 1 })
    expect(gone.status).toBe(404)
  })

  test("without --allow-weight-updates every weight-update endpoint answers 403 and says how to enable it", async () => {
    for (const [path, body] of [
      ["/v1/load_lora_adapter", { lora_name: "a", lora_path: adapterDir }],
      ["/v1/unload_lora_adapter", { lora_name: "a" }],
      ["/update_weights_from_disk", { model_path: root }],
    ] as const) {
      const response = await post(closed!.url, path, body)
      expect(response.status).toBe(403)
      expect(((await response.json()) as any).error.message).toContain("--allow-weight-updates")
    }
  })
})

describe("serve: replacing the weights from disk", () => {
  test("a checkpoint of the same shape replaces the weights between batches; another shape or a missing folder is refused", async () => {
    const other = new TransformerModel(config, 5)
    const dir = join(root, "other")
    await saveCheckpoint(dir, { model: other, step: 0, config: {} })
    const expected = local(other, 4)
    other.dispose()
    const response = await fetch(`${server.url}/update_weights_from_disk`, { method: "POST", body: JSON.stringify({ model_path: dir }) })
    expect(response.status).toBe(200)
    expect(((await response.json()) as any).success).toBe(true)
    expect(await completion("tiny", 4)).toEqual(expected)
    expect(server.stats().reloads).toBe(1)
    const small = new TransformerModel(modelConfig("small", tok.vocabSize), 0)
    const smallDir = join(root, "small")
    await saveCheckpoint(smallDir, { model: small, step: 0, config: {} })
    small.dispose()
    const wrong = await post(server.url, "/update_weights_from_disk", { model_path: smallDir })
    expect(wrong.status).toBe(400)
    expect(((await wrong.json()) as any).error.message).toContain("holds another model shape than the one served: dModel")
    const absent = await post(server.url, "/update_weights_from_disk", { model_path: join(root, "absent") })
    expect(((await absent.json()) as any).error.message).toContain("does not exist")
    expect(await completion("tiny", 4)).toEqual(expected)
  })
})

describe("RolloutFleet against the project's server", () => {
  test("completions pass the token check and equal the local sampler's, token for token", async () => {
    const fleet = new RolloutFleet({ baseUrls: [server.baseUrl], checkTokens: rolloutTokenCheck(tok, config) })
    expect(await Effect.runPromise(fleet.connect())).toBe("tiny")
    const requests: Array<GenerationRequest> = Array.from({ length: 6 }, (_, k) => ({ prompt: `Problem: ${k}+1\nSolution:`, maxTokens: 16, temperature: 0.7, topP: 1, seed: 100 + k, stop: ["\n"] }))
    const remote = await Effect.runPromise(fleet.generate(requests))
    // The weights served: the seed-5 model loaded by the test above, else the initial one.
    const reference = new TransformerModel(config, server.stats().reloads === 0 ? 1 : 5)
    try {
      const mine = requests.map((r) => generate(reference, tok, [r])[0]!)
      expect(remote.map((c) => c.tokenIds)).toEqual(mine.map((c) => c.tokenIds))
      expect(remote.map((c) => c.text)).toEqual(mine.map((c) => c.text))
      remote.forEach((c, i) => c.logprobs.forEach((lp, t) => expect(Math.abs(lp - mine[i]!.logprobs[t]!)).toBeLessThan(1e-5)))
    } finally {
      reference.dispose()
    }
    expect(fleet.stats().mismatches).toBe(0)
  })
})
