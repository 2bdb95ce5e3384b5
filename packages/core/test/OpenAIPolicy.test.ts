import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test"
import { Effect } from "effect"
import fc from "fast-check"
import { OpenAIPolicy, PolicyError } from "../src/index.ts"

/**
 * A scripted OpenAI-compatible endpoint on loopback: each test sets `reply`, which sees the
 * parsed request and the attempt number; the server records requests and the most in flight.
 */
type Reply = (body: any, attempt: number, request: Request) => Response | Promise<Response>
let reply: Reply
let received: Array<{ path: string; body: any; headers: Headers }>
let inFlight = 0
let maxInFlight = 0
let server: ReturnType<typeof Bun.serve>
let baseUrl: string

const completionBody = (text: string, logprobs: unknown, usage: unknown = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }) =>
  Response.json({ id: "cmpl-1", object: "text_completion", created: 0, model: "m", choices: [{ index: 0, text, logprobs, finish_reason: "stop" }], usage })

const ok = () => completionBody("hi", { tokens: ["token_id:104", "token_id:105"], token_logprobs: [-0.5, -1.25], top_logprobs: null, text_offset: [0, 1] })

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const body = await request.json()
      received.push({ path: new URL(request.url).pathname, body, headers: request.headers })
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      try {
        return await reply(body, received.length - 1, request)
      } finally {
        inFlight--
      }
    },
  })
  baseUrl = `http://127.0.0.1:${server.port}/v1/`
})

afterAll(() => server.stop(true))

beforeEach(() => {
  received = []
  inFlight = 0
  maxInFlight = 0
  reply = ok
})

const policy = (options: Partial<ConstructorParameters<typeof OpenAIPolicy>[0]> = {}) =>
  new OpenAIPolicy({ baseUrl, model: "m", backoffMs: 1, maxBackoffMs: 20, apiKeyEnv: "ICRL_TEST_NO_SUCH_VAR", ...options })

const failure = (p: OpenAIPolicy): Promise<PolicyError> =>
  Effect.runPromise(Effect.flip(p.generate([{ prompt: "x", maxTokens: 2, temperature: 0 }])))

describe("OpenAIPolicy requests", () => {
  test("a generation request maps to /completions with the OpenAI fields and the bearer token from the env var", async () => {
    process.env["ICRL_TEST_KEY"] = "sekret"
    const p = policy({ apiKeyEnv: "ICRL_TEST_KEY" })
    await Effect.runPromise(p.generate([{ prompt: "P", maxTokens: 7, temperature: 0.5, topP: 0.9, stop: ["\n\n"], seed: 42, role: "critic" }]))
    delete process.env["ICRL_TEST_KEY"]
    expect(received).toHaveLength(1)
    expect(received[0]!.path).toBe("/v1/completions")
    expect(received[0]!.headers.get("authorization")).toBe("Bearer sekret")
    expect(received[0]!.body).toEqual({
      model: "m",
      prompt: "P",
      max_tokens: 7,
      temperature: 0.5,
      top_p: 0.9,
      stop: ["\n\n"],
      seed: 42,
      n: 1,
      logprobs: 1,
      return_tokens_as_token_ids: true,
    })
  })

  test("without a key no authorization header is sent; requestTokenIds false drops the extension field", async () => {
    await Effect.runPromise(policy({ requestTokenIds: false }).generate([{ prompt: "P", maxTokens: 1, temperature: 0 }]))
    expect(received[0]!.headers.get("authorization")).toBeNull()
    expect("return_tokens_as_token_ids" in received[0]!.body).toBe(false)
    expect("seed" in received[0]!.body || "stop" in received[0]!.body || "top_p" in received[0]!.body).toBe(false)
  })

  test("the chat endpoint sends one user message and reads message content and logprobs.content", async () => {
    reply = () =>
      Response.json({
        choices: [{ index: 0, message: { role: "assistant", content: "ok" }, logprobs: { content: [{ token: "token_id:111", logprob: -0.1 }, { token: "token_id:107", logprob: -0.2 }] }, finish_reason: "length" }],
        usage: { prompt_tokens: 4, completion_tokens: 2 },
      })
    const [c] = await Effect.runPromise(policy({ endpoint: "chat" }).generate([{ prompt: "P", maxTokens: 2, temperature: 0 }]))
    expect(received[0]!.path).toBe("/v1/chat/completions")
    expect(received[0]!.body.messages).toEqual([{ role: "user", content: "P" }])
    expect(received[0]!.body.logprobs).toBe(true)
    expect(c).toEqual({ text: "ok", tokenIds: [111, 107], logprobs: [-0.1, -0.2], promptTokens: 4, finishReason: "length" })
  })

  test("bad options are rejected at construction", () => {
    expect(() => policy({ baseUrl: "not a url" })).toThrow(RangeError)
    expect(() => policy({ baseUrl: "ftp://x/v1" })).toThrow(RangeError)
    expect(() => policy({ model: "" })).toThrow(RangeError)
    expect(() => policy({ maxConcurrency: 0 })).toThrow(RangeError)
  })
})

describe("OpenAIPolicy responses", () => {
  test("law: token ids written as token_id:N and their log-probs come back exactly", async () => {
    reply = (body) => {
      const { ids, lps } = JSON.parse(body.prompt)
      return completionBody("t", { tokens: ids.map((id: number) => `token_id:${id}`), token_logprobs: lps }, { prompt_tokens: 1, completion_tokens: ids.length })
    }
    const p = policy()
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat({ max: 200_000 }), fc.double({ min: -50, max: 0, noNaN: true })), { maxLength: 30 }),
        async (pairs) => {
          const ids = pairs.map(([id]) => id)
          const lps = pairs.map(([, lp]) => lp)
          const [c] = await Effect.runPromise(p.generate([{ prompt: JSON.stringify({ ids, lps }), maxTokens: 30, temperature: 0 }]))
          expect(c!.tokenIds).toEqual(ids)
          expect(c!.logprobs).toEqual(lps.map((x) => (Object.is(x, -0) ? -0 : x)))
        },
      ),
      { numRuns: 40, seed: 5 },
    )
  })

  test("servers without token ids give -1 ids; without log-probs also NaN log-probs, one per usage token", async () => {
    reply = () => completionBody("ab", { tokens: ["a", "b"], token_logprobs: [-1, null] })
    const [plain] = await Effect.runPromise(policy().generate([{ prompt: "x", maxTokens: 2, temperature: 0 }]))
    expect(plain!.tokenIds).toEqual([-1, -1])
    expect(plain!.logprobs[0]).toBe(-1)
    expect(Number.isNaN(plain!.logprobs[1])).toBe(true)
    reply = () => completionBody("abc", null, { prompt_tokens: 5, completion_tokens: 3 })
    const [bare] = await Effect.runPromise(policy().generate([{ prompt: "x", maxTokens: 3, temperature: 0 }]))
    expect(bare!.tokenIds).toEqual([-1, -1, -1])
    expect(bare!.logprobs.every(Number.isNaN)).toBe(true)
    expect(bare!.promptTokens).toBe(5)
    expect(bare!.finishReason).toBe("stop")
  })

  test("malformed responses fail without retrying", async () => {
    reply = () => new Response("not json", { status: 200 })
    const p = policy()
    expect((await failure(p)).message).toContain("not JSON")
    reply = () => Response.json({ choices: [] })
    expect((await failure(p)).message).toContain("no choices")
    expect(p.usage().retries).toBe(0)
    expect(p.usage().failures).toBe(2)
  })
})

describe("OpenAIPolicy retries, timeouts and concurrency", () => {
  test("429 and 5xx are retried with backoff until success; Retry-After is honoured", async () => {
    reply = (_body, attempt) =>
      attempt === 0
        ? Response.json({ error: { message: "slow down" } }, { status: 429, headers: { "retry-after": "0.05" } })
        : attempt === 1
          ? new Response("upstream down", { status: 503 })
          : ok()
    const p = policy()
    const start = performance.now()
    const [c] = await Effect.runPromise(p.generate([{ prompt: "x", maxTokens: 2, temperature: 0 }]))
    expect(performance.now() - start).toBeGreaterThanOrEqual(20)
    expect(c!.text).toBe("hi")
    expect(received).toHaveLength(3)
    expect(p.usage().retries).toBe(2)
    expect(p.usage().requests).toBe(1)
  })

  test("other 4xx fail at once with the server's message", async () => {
    reply = () => Response.json({ error: { message: "max_tokens must be an integer", type: "invalid_request_error" } }, { status: 400 })
    const p = policy()
    const error = await failure(p)
    expect(error).toBeInstanceOf(PolicyError)
    expect(error.message).toContain("HTTP 400: max_tokens must be an integer")
    expect(received).toHaveLength(1)
  })

  test("a server that keeps failing gives up after maxRetries + 1 attempts", async () => {
    reply = () => new Response("boom", { status: 500 })
    const error = await failure(policy({ maxRetries: 3 }))
    expect(error.message).toContain("HTTP 500: boom (after 4 attempts)")
    expect(received).toHaveLength(4)
  })

  test("an attempt over timeoutMs is aborted and retried", async () => {
    reply = async (_body, attempt) => {
      if (attempt === 0) await Bun.sleep(400)
      return ok()
    }
    const p = policy({ timeoutMs: 60 })
    const [c] = await Effect.runPromise(p.generate([{ prompt: "x", maxTokens: 2, temperature: 0 }]))
    expect(c!.text).toBe("hi")
    expect(p.usage().retries).toBe(1)
    reply = async () => {
      await Bun.sleep(400)
      return ok()
    }
    expect((await failure(policy({ timeoutMs: 40, maxRetries: 1 }))).message).toContain("timed out after 40 ms")
  })

  test("no more than maxConcurrency requests are in flight, over concurrent generate calls too", async () => {
    reply = async () => {
      await Bun.sleep(25)
      return ok()
    }
    const p = policy({ maxConcurrency: 3 })
    const requests = Array.from({ length: 8 }, (_, i) => ({ prompt: `${i}`, maxTokens: 2, temperature: 0, role: i % 2 === 0 ? ("solver" as const) : ("critic" as const) }))
    const [a, b] = await Effect.runPromise(Effect.all([p.generate(requests), p.generate(requests)], { concurrency: "unbounded" }))
    expect(a).toHaveLength(8)
    expect(b).toHaveLength(8)
    expect(maxInFlight).toBe(3)
    const usage = p.usage()
    expect(usage).toMatchObject({ requests: 16, promptTokens: 48, completionTokens: 32, retries: 0, failures: 0 })
    expect(usage.byRole.solver).toEqual({ requests: 8, promptTokens: 24, completionTokens: 16 })
    expect(usage.byRole.critic).toEqual({ requests: 8, promptTokens: 24, completionTokens: 16 })
  })

  test("results keep the order of the requests", async () => {
    reply = async (body) => {
      await Bun.sleep(body.prompt === "0" ? 30 : 0)
      return completionBody(`answer ${body.prompt}`, null, { prompt_tokens: 1, completion_tokens: 1 })
    }
    const out = await Effect.runPromise(policy().generate(["0", "1", "2"].map((prompt) => ({ prompt, maxTokens: 1, temperature: 0 }))))
    expect(out.map((c) => c.text)).toEqual(["answer 0", "answer 1", "answer 2"])
  })
})
