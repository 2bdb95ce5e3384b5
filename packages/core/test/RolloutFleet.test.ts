import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test"
import { Effect } from "effect"
import { ConfigError, PolicyError, RolloutFleet, type GenerationRequest, type RolloutFleetOptions } from "../src/index.ts"

/**
 * Three scripted OpenAI-compatible engines on loopback. Each test sets `reply[e]`, which sees the
 * path, the parsed body and the engine's attempt number; every engine records what it received
 * and the most requests it had in flight.
 */
type Reply = (path: string, body: any, attempt: number) => Response | Promise<Response>

interface Engine {
  server: ReturnType<typeof Bun.serve>
  url: string
  received: Array<{ path: string; body: any; method: string }>
  inFlight: number
  maxInFlight: number
}

let engines: Array<Engine> = []
let reply: Array<Reply> = []

const completion = (text: string, ids: ReadonlyArray<number>, lps: ReadonlyArray<number | null> = ids.map(() => -0.5), promptTokens = 3) =>
  Response.json({
    choices: [{ index: 0, text, logprobs: { tokens: ids.map((id) => `token_id:${id}`), token_logprobs: lps }, finish_reason: "length" }],
    usage: { prompt_tokens: promptTokens, completion_tokens: ids.length },
  })

/** Answers a prompt "p<k>" with the text "answer k" and ids [k, k + 1]. */
const echo: Reply = (path, body) => {
  if (path === "/v1/models") return Response.json({ object: "list", data: [{ id: "base", parent: null }] })
  if (path === "/v1/completions") {
    const k = Number(String(body.prompt).slice(1))
    return completion(`answer ${k}`, [k, k + 1])
  }
  return Response.json({ status: "ok" })
}

beforeAll(() => {
  engines = [0, 1, 2].map((e) => {
    const engine: Engine = { server: undefined as never, url: "", received: [], inFlight: 0, maxInFlight: 0 }
    engine.server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(request) {
        const path = new URL(request.url).pathname
        const text = await request.text()
        const body = text === "" ? undefined : JSON.parse(text)
        engine.received.push({ path, body, method: request.method })
        engine.inFlight++
        engine.maxInFlight = Math.max(engine.maxInFlight, engine.inFlight)
        try {
          return await reply[e]!(path, body, engine.received.filter((r) => r.path === path).length - 1)
        } finally {
          engine.inFlight--
        }
      },
    })
    engine.url = `http://127.0.0.1:${engine.server.port}/v1`
    return engine
  })
})

afterAll(() => {
  for (const e of engines) e.server.stop(true)
})

beforeEach(() => {
  reply = [echo, echo, echo]
  for (const e of engines) {
    e.received = []
    e.inFlight = 0
    e.maxInFlight = 0
  }
})

const fleet = (count = 2, options: Partial<RolloutFleetOptions> = {}) => {
  const f = new RolloutFleet({ baseUrls: engines.slice(0, count).map((e) => e.url), backoffMs: 1, maxBackoffMs: 10, ...options })
  f.useModel("base")
  return f
}

const requests = (n: number): Array<GenerationRequest> => Array.from({ length: n }, (_, k) => ({ prompt: `p${k}`, maxTokens: 2, temperature: 1, seed: k }))

describe("RolloutFleet generation", () => {
  test("requests are spread over the engines, at most maxInFlight each, and come back in order with the engines' ids and log-probs", async () => {
    reply = [0, 1].map(() => async (path: string, body: any, attempt: number) => {
      await Bun.sleep(5)
      return echo(path, body, attempt)
    })
    const f = fleet(2, { maxInFlight: 3 })
    const out = await Effect.runPromise(f.generate(requests(20)))
    expect(out.map((c) => c.text)).toEqual(Array.from({ length: 20 }, (_, k) => `answer ${k}`))
    expect(out[7]!.tokenIds).toEqual([7, 8])
    expect(out[7]!.logprobs).toEqual([-0.5, -0.5])
    const served = engines.slice(0, 2).map((e) => e.received.filter((r) => r.path === "/v1/completions").length)
    expect(served[0]! + served[1]!).toBe(20)
    expect(Math.min(...served)).toBeGreaterThan(0)
    expect(Math.max(engines[0]!.maxInFlight, engines[1]!.maxInFlight)).toBeLessThanOrEqual(3)
    expect(engines[0]!.received[0]!.body).toMatchObject({ model: "base", prompt: "p0", logprobs: 1, return_tokens_as_token_ids: true, seed: 0, n: 1 })
    expect(f.stats()).toMatchObject({ requests: 20, retries: 0, mismatches: 0, completionTokens: 40 })
  })

  test("an engine that fails is retried on another one; the failures are counted", async () => {
    reply[0] = (path, body, attempt) => (path === "/v1/completions" ? new Response("down", { status: 503 }) : echo(path, body, attempt))
    const f = fleet(2)
    const out = await Effect.runPromise(f.generate(requests(6)))
    expect(out.map((c) => c.text)).toEqual(requests(6).map((_, k) => `answer ${k}`))
    const stats = f.stats()
    expect(stats.engines[0]!.requests).toBe(0)
    expect(stats.engines[1]!.requests).toBe(6)
    expect(stats.engines[0]!.failures).toBe(stats.retries)
    expect(stats.retries).toBeGreaterThan(0)
  })

  for (const [what, bad, expected] of [
    ["malformed JSON", () => new Response("{not json", { status: 200 }), 'malformed response: not JSON: "{not json"'],
    ["no choices", () => Response.json({ choices: [] }), "malformed response: no choices"],
    ["dropped log-probs", () => completion("ab", [1, 2], [-0.1, null]), "dropped log-probs: 1 of 2 tokens have no usable log-prob"],
    ["no log-probs at all", () => Response.json({ choices: [{ text: "ab", finish_reason: "stop" }], usage: { prompt_tokens: 3, completion_tokens: 2 } }), "dropped log-probs: 2 of 2"],
    ["a refusal", () => Response.json({ error: { message: "The model `base` does not exist" } }, { status: 404 }), "HTTP 404: The model `base` does not exist"],
  ] as const) {
    test(`${what} is retried with backoff, then the whole batch fails naming every engine and its answer`, async () => {
      reply = [0, 1].map(() => (path: string, body: any, attempt: number) => (path === "/v1/completions" && body.prompt === "p3" ? bad() : echo(path, body, attempt)))
      const f = fleet(2, { maxRetries: 3 })
      const error = await Effect.runPromise(Effect.flip(f.generate(requests(5))))
      expect(error).toBeInstanceOf(PolicyError)
      expect(error.message).toContain("rollout request failed after 4 attempts")
      for (const e of engines.slice(0, 2)) expect(error.message).toContain(`${e.url}: ${expected}`)
      const tries = engines.slice(0, 2).flatMap((e) => e.received.filter((r) => r.body?.prompt === "p3"))
      expect(tries).toHaveLength(4)
      expect(f.stats().retries).toBe(3)
    })
  }

  test("an engine that never answers times out and the request moves to another engine", async () => {
    reply[0] = async (path, body, attempt) => {
      if (path === "/v1/completions") await Bun.sleep(2_000)
      return echo(path, body, attempt)
    }
    const f = fleet(2, { timeoutMs: 80 })
    const out = await Effect.runPromise(f.generate(requests(4)))
    expect(out.map((c) => c.text)).toEqual(requests(4).map((_, k) => `answer ${k}`))
    expect(f.stats().engines[0]!.failures).toBeGreaterThan(0)
  })

  test("an engine that is down (connection refused) is named in the error when no other engine can answer", async () => {
    const dead = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") })
    const url = `http://127.0.0.1:${dead.port}/v1`
    dead.stop(true)
    const f = new RolloutFleet({ baseUrls: [url], maxRetries: 2, backoffMs: 1 })
    f.useModel("base")
    const error = await Effect.runPromise(Effect.flip(f.generate(requests(1))))
    expect(error.message).toContain(`rollout request failed after 3 attempts (${url}: `)
  })

  test("a completion whose tokens fail the check keeps its text, loses its tokens and is counted", async () => {
    const f = fleet(1, {
      checkTokens: (request, completion) =>
        request.prompt === "p1" ? { kind: "mismatch", reason: "ids decode to something else" } : { kind: "ok", completion: { ...completion, tokenIds: completion.tokenIds.map((id) => id * 10) } },
    })
    const out = await Effect.runPromise(f.generate(requests(3)))
    expect(out[1]).toMatchObject({ text: "answer 1", tokenIds: [], logprobs: [] })
    expect(out[2]!.tokenIds).toEqual([20, 30])
    expect(f.stats()).toMatchObject({ mismatches: 1, lastMismatch: "ids decode to something else" })
  })

  test("without a model to name, generation fails before any request", async () => {
    const f = new RolloutFleet({ baseUrls: [engines[0]!.url] })
    expect((await Effect.runPromise(Effect.flip(f.generate(requests(1))))).message).toContain("connect() or useModel() first")
    expect(engines[0]!.received).toHaveLength(0)
  })
})

describe("RolloutFleet weight sync", () => {
  test("connect finds the base model every engine serves; engines that disagree are named", async () => {
    const f = new RolloutFleet({ baseUrls: engines.map((e) => e.url), backoffMs: 1 })
    expect(await Effect.runPromise(f.connect())).toBe("base")
    expect(f.model).toBe("base")
    reply[2] = (path, body, attempt) => (path === "/v1/models" ? Response.json({ data: [{ id: "other" }] }) : echo(path, body, attempt))
    const error = await Effect.runPromise(Effect.flip(f.connect()))
    expect(error.message).toContain(`engine ${engines[2]!.url} serves "other", engine ${engines[0]!.url} serves "base"`)
  })

  test("loadAdapter, unloadAdapter and reloadWeights post vLLM's and SGLang's bodies to every engine", async () => {
    const f = fleet(3)
    await Effect.runPromise(f.loadAdapter("run-step-1", "/w/step-1"))
    await Effect.runPromise(f.unloadAdapter("run-step-0"))
    await Effect.runPromise(f.reloadWeights("/w/full"))
    for (const e of engines) {
      expect(e.received.map((r) => [r.path, r.body])).toEqual([
        ["/v1/load_lora_adapter", { lora_name: "run-step-1", lora_path: "/w/step-1" }],
        ["/v1/unload_lora_adapter", { lora_name: "run-step-0" }],
        ["/update_weights_from_disk", { model_path: "/w/full" }],
      ])
    }
  })

  test("a refused adapter is retried, then the error names the engine and what it returned", async () => {
    reply[1] = (path, body, attempt) =>
      path === "/v1/load_lora_adapter" ? Response.json({ error: { message: "cannot load the adapter 'a': adapter_config.json: not found" } }, { status: 400 }) : echo(path, body, attempt)
    const f = fleet(2, { maxRetries: 2 })
    const error = await Effect.runPromise(Effect.flip(f.loadAdapter("a", "/nowhere")))
    expect(error.message).toBe(
      `policy error: engine ${engines[1]!.url}: POST /v1/load_lora_adapter {"lora_name":"a","lora_path":"/nowhere"} failed after 3 attempts: HTTP 400: cannot load the adapter 'a': adapter_config.json: not found`,
    )
    expect(engines[1]!.received.filter((r) => r.path === "/v1/load_lora_adapter")).toHaveLength(3)
  })

  test("'already loaded' after an unanswered attempt counts as loaded; a 404 answered at once is an error", async () => {
    reply[0] = (path, _body, attempt) =>
      path === "/v1/load_lora_adapter"
        ? attempt === 0
          ? new Response("", { status: 502 })
          : Response.json({ error: { message: "The lora adapter 'a' has already been loaded." } }, { status: 400 })
        : Response.json({ error: { message: "The lora adapter 'a' cannot be found." } }, { status: 404 })
    const f = fleet(1, { maxRetries: 3 })
    await Effect.runPromise(f.loadAdapter("a", "/w"))
    expect(engines[0]!.received).toHaveLength(2)
    const error = await Effect.runPromise(Effect.flip(f.unloadAdapter("a")))
    expect(error.message).toContain("HTTP 404: The lora adapter 'a' cannot be found.")
  })

  test("bad options are a ConfigError naming the option", async () => {
    for (const [options, field] of [
      [{ baseUrls: [] }, "baseUrls"],
      [{ baseUrls: ["ftp://x/v1"] }, "baseUrls"],
      [{ baseUrls: ["http://a/v1", "http://a/v1/"] }, "baseUrls"],
      [{ baseUrls: ["http://a/v1"], maxInFlight: 0 }, "maxInFlight"],
    ] as const) {
      const error = await Effect.runPromise(Effect.flip(RolloutFleet.make(options)))
      expect(error).toBeInstanceOf(ConfigError)
      expect(error.field).toBe(field)
    }
  })
})
