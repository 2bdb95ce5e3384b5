import { Effect } from "effect"
import { ConfigError, PolicyError } from "./Errors.ts"
import {
  apiRootProblem,
  backoffDelay,
  boundsProblem,
  completionRequestBody,
  describeReply,
  httpExchange,
  isRecord,
  parseCompletionResponse,
  requestHeaders,
  type CompletionEndpoint,
  type HttpReply,
} from "./openAIHttp.ts"
import type { Completion, GenerationRequest, Policy } from "./Policy.ts"

/** What the trainer says about the tokens of one completion: usable as they are (ids filled in), or not. */
export type TokenCheck = { readonly kind: "ok"; readonly completion: Completion } | { readonly kind: "mismatch"; readonly reason: string }

/** How to reach a fleet of OpenAI-compatible inference engines and how hard to try. */
export interface RolloutFleetOptions {
  /** The engines' API roots, for example `http://10.0.0.5:8000/v1` (a trailing slash is ignored). */
  readonly baseUrls: ReadonlyArray<string>
  /** Bearer token sent to every engine. */
  readonly apiKey?: string
  /** `completions` (default): raw prompts; `chat`: each prompt as one user message, rendered by the engine's chat template. */
  readonly endpoint?: CompletionEndpoint
  /** Extra fields of every generation request (for example `chat_template_kwargs`). */
  readonly extraBody?: Readonly<Record<string, unknown>>
  /** Most generation requests in flight per engine (default 16). */
  readonly maxInFlight?: number
  /** Limit of one generation attempt in milliseconds (default 120,000). */
  readonly timeoutMs?: number
  /** Limit of one weight-sync call (loading an adapter or weights) in milliseconds (default 300,000). */
  readonly syncTimeoutMs?: number
  /** Retries of a request or a sync call after any failure (default 4). */
  readonly maxRetries?: number
  /** First backoff delay in milliseconds; doubles per retry (default 500). */
  readonly backoffMs?: number
  /** Longest backoff delay, also the cap on a server's `Retry-After` (default 30,000). */
  readonly maxBackoffMs?: number
  /**
   * Checks a completion's tokens against the trainer's tokenizer, filling in ids the engine did
   * not return; a mismatch drops the completion's tokens from training (see {@link RolloutFleet}).
   */
  readonly checkTokens?: (request: GenerationRequest, completion: Completion) => TokenCheck
}

/** Counters of one engine. */
export interface EngineStats {
  readonly baseUrl: string
  /** Generation requests it answered. */
  readonly requests: number
  /** Attempts on it that failed (and were retried elsewhere or given up on). */
  readonly failures: number
}

/** Counters of a fleet. */
export interface RolloutFleetStats {
  readonly requests: number
  readonly completionTokens: number
  /** Attempts that were retried (on any engine). */
  readonly retries: number
  /** Completions whose tokens did not round-trip and were dropped from training. */
  readonly mismatches: number
  /** The reason of the latest mismatch. */
  readonly lastMismatch?: string
  readonly engines: ReadonlyArray<EngineStats>
}

type Outcome =
  | { readonly kind: "ok"; readonly completion: Completion }
  | { readonly kind: "failed"; readonly reason: string }
  | { readonly kind: "interrupted" }

/** Waits `ms`, or less when `signal` aborts. */
const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener("abort", done)
      resolve()
    }
    signal.addEventListener("abort", done, { once: true })
  })

/**
 * Request slots per engine: a request takes a free slot on the engine with the most free slots
 * (preferring one other than `avoid`, the engine that just failed it), so a faster engine, which
 * frees its slots sooner, gets more of the work; with no free slot it waits for one.
 */
class EngineSlots {
  readonly #free: Array<number>
  readonly #waiters: Array<{ readonly avoid: number | undefined; readonly resolve: (engine: number) => void }> = []

  constructor(engines: number, perEngine: number) {
    this.#free = Array.from({ length: engines }, () => perEngine)
  }

  #pick(avoid: number | undefined): number | undefined {
    let best: number | undefined
    for (let e = 0; e < this.#free.length; e++) {
      if (this.#free[e]! <= 0) continue
      const better = best === undefined || (best === avoid && e !== avoid) || (e !== avoid && this.#free[e]! > this.#free[best]!)
      if (better) best = e
    }
    return best
  }

  acquire(avoid: number | undefined, signal: AbortSignal): Promise<number | undefined> {
    const engine = this.#pick(avoid)
    if (engine !== undefined) {
      this.#free[engine]! -= 1
      return Promise.resolve(engine)
    }
    return new Promise((resolve) => {
      const waiter = {
        avoid,
        resolve: (e: number) => {
          signal.removeEventListener("abort", abandon)
          resolve(e)
        },
      }
      const abandon = () => {
        const at = this.#waiters.indexOf(waiter)
        if (at >= 0) this.#waiters.splice(at, 1)
        resolve(undefined)
      }
      this.#waiters.push(waiter)
      signal.addEventListener("abort", abandon, { once: true })
    })
  }

  release(engine: number): void {
    this.#free[engine]! += 1
    const waiter = this.#waiters.shift()
    if (waiter === undefined) return
    const next = this.#pick(waiter.avoid)!
    this.#free[next]! -= 1
    waiter.resolve(next)
  }
}

/**
 * Why `baseUrls` cannot name a fleet's engines (none, one that is not an http(s) URL, or one
 * listed twice, a trailing slash aside); undefined when they can.
 *
 * @example
 * engineUrlsProblem(["http://a/v1", "http://a/v1/"]) // "http://a/v1 is listed twice"
 */
export const engineUrlsProblem = (baseUrls: ReadonlyArray<string>): string | undefined => {
  if (baseUrls.length === 0) return "at least one engine URL is needed"
  const bad = baseUrls.map(apiRootProblem).find((p) => p !== undefined)
  if (bad !== undefined) return bad
  const normalized = baseUrls.map((u) => u.replace(/\/+$/, ""))
  const repeated = normalized.find((u, i) => normalized.indexOf(u) !== i)
  return repeated === undefined ? undefined : `${repeated} is listed twice`
}

/** The first option that cannot be used, with the field it is about; undefined when all are fine. */
const optionsProblem = (options: RolloutFleetOptions): { readonly field: string; readonly detail: string } | undefined => {
  const urls = engineUrlsProblem(options.baseUrls)
  if (urls !== undefined) return { field: "baseUrls", detail: urls }
  return boundsProblem<keyof RolloutFleetOptions>([
    ["maxInFlight", options.maxInFlight, 1],
    ["timeoutMs", options.timeoutMs, 1],
    ["syncTimeoutMs", options.syncTimeoutMs, 1],
    ["maxRetries", options.maxRetries, 0],
    ["backoffMs", options.backoffMs, 0],
    ["maxBackoffMs", options.maxBackoffMs, 0],
  ])
}

/**
 * A `Policy` whose generations run on a fleet of OpenAI-compatible inference engines (vLLM,
 * SGLang, the project's `serve`), with the weight sync a trainer needs between updates.
 *
 * Generation: each request is one `POST /completions` (or `/chat/completions`) with n = 1, the
 * request's seed, per-token `logprobs` and `return_tokens_as_token_ids`, on the engine with the
 * most free slots (at most `maxInFlight` per engine). Any failure (no response, a timeout, an
 * HTTP error, a body that is not JSON or has no choice, log-probs missing or not one per token)
 * is retried with exponential backoff, on another engine when there is one, up to `maxRetries`
 * times; then the whole `generate` fails with a `PolicyError` that names each engine tried and
 * what it returned, and no completion of the call is returned (a batch is whole or absent).
 * Completions whose tokens `checkTokens` rejects are returned with their text but with no token
 * ids or log-probs, so that nothing trains on them; {@link stats} counts them.
 *
 * Weight sync: {@link loadAdapter} and {@link unloadAdapter} call vLLM's runtime LoRA endpoints
 * (`POST /v1/load_lora_adapter` with `lora_name` and `lora_path`, `POST /v1/unload_lora_adapter`
 * with `lora_name`) on every engine; {@link reloadWeights} calls `POST /update_weights_from_disk`
 * with `model_path` at each engine's root (SGLang's endpoint, also served by `serve`). A sync
 * call that keeps failing fails with a `PolicyError` naming the engine and its answer. The model
 * named in generation requests is the one {@link connect} found, or the last {@link useModel}.
 *
 * @example
 * const fleet = yield* RolloutFleet.make({ baseUrls: ["http://127.0.0.1:8001/v1", "http://127.0.0.1:8002/v1"] })
 * yield* fleet.connect()
 * yield* fleet.loadAdapter("run-step-1", "/shared/run/step-1")
 * fleet.useModel("run-step-1")
 * const completions = yield* fleet.generate(requests)
 */
export class RolloutFleet implements Policy {
  readonly name: string
  readonly baseUrls: ReadonlyArray<string>
  readonly endpoint: CompletionEndpoint
  readonly #options: RolloutFleetOptions
  readonly #timeoutMs: number
  readonly #syncTimeoutMs: number
  readonly #maxRetries: number
  readonly #backoff: { readonly backoffMs: number; readonly maxBackoffMs: number }
  readonly #slots: EngineSlots
  readonly #requests: Array<number>
  readonly #failures: Array<number>
  #model: string | undefined
  #completionTokens = 0
  #retries = 0
  #mismatches = 0
  #lastMismatch: string | undefined

  constructor(options: RolloutFleetOptions) {
    const problem = optionsProblem(options)
    if (problem !== undefined) throw new RangeError(problem.detail)
    this.#options = options
    this.baseUrls = options.baseUrls.map((u) => u.replace(/\/+$/, ""))
    this.name = `rollout fleet (${this.baseUrls.join(", ")})`
    this.endpoint = options.endpoint ?? "completions"
    this.#timeoutMs = options.timeoutMs ?? 120_000
    this.#syncTimeoutMs = options.syncTimeoutMs ?? 300_000
    this.#maxRetries = Math.floor(options.maxRetries ?? 4)
    this.#backoff = { backoffMs: options.backoffMs ?? 500, maxBackoffMs: options.maxBackoffMs ?? 30_000 }
    this.#slots = new EngineSlots(this.baseUrls.length, Math.floor(options.maxInFlight ?? 16))
    this.#requests = this.baseUrls.map(() => 0)
    this.#failures = this.baseUrls.map(() => 0)
  }

  /**
   * A fleet for the options, or a ConfigError naming the option that is not usable.
   *
   * @example
   * const fleet = yield* RolloutFleet.make({ baseUrls: ["http://127.0.0.1:8001/v1"] })
   */
  static make(options: RolloutFleetOptions): Effect.Effect<RolloutFleet, ConfigError> {
    return Effect.suspend(() => {
      const problem = optionsProblem(options)
      return problem === undefined ? Effect.succeed(new RolloutFleet(options)) : Effect.fail(new ConfigError(problem))
    })
  }

  /** The model named in generation requests (undefined before {@link connect} or {@link useModel}). */
  get model(): string | undefined {
    return this.#model
  }

  /**
   * Names `model` in the generation requests from now on (an adapter just loaded, for example).
   *
   * @example
   * fleet.useModel("run-step-3")
   */
  useModel(model: string): void {
    this.#model = model
  }

  /**
   * Counters so far.
   *
   * @example
   * fleet.stats().mismatches // completions dropped from training
   */
  stats(): RolloutFleetStats {
    return {
      requests: this.#requests.reduce((a, b) => a + b, 0),
      completionTokens: this.#completionTokens,
      retries: this.#retries,
      mismatches: this.#mismatches,
      ...(this.#lastMismatch === undefined ? {} : { lastMismatch: this.#lastMismatch }),
      engines: this.baseUrls.map((baseUrl, e) => ({ baseUrl, requests: this.#requests[e]!, failures: this.#failures[e]! })),
    }
  }

  /**
   * Asks every engine for its models (`GET /models`, retried like a sync call) and returns the
   * base model they serve: the first entry without a `parent` (adapters name their parent). The
   * engines must agree; the fleet then names that model in its requests until {@link useModel}.
   *
   * @example
   * const base = yield* fleet.connect() // "small"
   */
  connect(): Effect.Effect<string, PolicyError> {
    return this.#everyEngine("GET", (base) => `${base}/models`, undefined, () => false).pipe(
      Effect.flatMap((replies) => {
        const names: Array<string | undefined> = replies.map((text) => {
          try {
            const body: unknown = JSON.parse(text)
            const data = isRecord(body) && Array.isArray(body["data"]) ? body["data"] : []
            const base = data.find((m: unknown) => isRecord(m) && typeof m["id"] === "string" && (m["parent"] === undefined || m["parent"] === null))
            return isRecord(base) ? (base["id"] as string) : undefined
          } catch {
            return undefined
          }
        })
        const missing = names.findIndex((n) => n === undefined)
        if (missing >= 0) {
          return Effect.fail(new PolicyError({ reason: `engine ${this.baseUrls[missing]}: GET /models listed no model: ${JSON.stringify(replies[missing]!.slice(0, 200))}` }))
        }
        const differs = names.findIndex((n) => n !== names[0])
        if (differs >= 0) {
          return Effect.fail(new PolicyError({ reason: `engine ${this.baseUrls[differs]} serves "${names[differs]}", engine ${this.baseUrls[0]} serves "${names[0]}"; every engine must serve the same model` }))
        }
        this.#model = names[0]!
        return Effect.succeed(names[0]!)
      }),
    )
  }

  /**
   * Loads the PEFT adapter folder `path` on every engine under `name` (`POST /v1/load_lora_adapter`).
   * "already loaded" after an attempt that got no answer (or a 5xx) counts as done.
   *
   * @example
   * yield* fleet.loadAdapter("run-step-1", "/shared/run/adapters/step-1")
   */
  loadAdapter(name: string, path: string): Effect.Effect<void, PolicyError> {
    return this.#everyEngine("POST", (base) => `${base}/load_lora_adapter`, { lora_name: name, lora_path: path }, (reply) => /already been loaded|already loaded|already exists/i.test(describeReply(reply))).pipe(Effect.asVoid)
  }

  /**
   * Unloads the adapter `name` from every engine (`POST /v1/unload_lora_adapter`). A 404 after an
   * attempt that got no answer (or a 5xx) counts as done.
   *
   * @example
   * yield* fleet.unloadAdapter("run-step-1")
   */
  unloadAdapter(name: string): Effect.Effect<void, PolicyError> {
    return this.#everyEngine("POST", (base) => `${base}/unload_lora_adapter`, { lora_name: name }, (reply) => reply.kind === "response" && reply.status === 404).pipe(Effect.asVoid)
  }

  /**
   * Asks every engine to replace its weights with the model at `path` (`POST /update_weights_from_disk`
   * with `model_path`, at the engine's root: the base URL without `/v1`).
   *
   * @example
   * yield* fleet.reloadWeights("/shared/run/weights/step-1")
   */
  reloadWeights(path: string): Effect.Effect<void, PolicyError> {
    return this.#everyEngine("POST", (base) => `${base.replace(/\/v1$/, "")}/update_weights_from_disk`, { model_path: path }, () => false).pipe(Effect.asVoid)
  }

  generate(requests: ReadonlyArray<GenerationRequest>): Effect.Effect<ReadonlyArray<Completion>, PolicyError> {
    return Effect.promise((signal) => this.#generateAll(requests, signal)).pipe(
      Effect.flatMap((result) => (typeof result === "string" ? Effect.fail(new PolicyError({ reason: result })) : Effect.succeed(result))),
    )
  }

  /** All requests, or the first failure's message; the first failure aborts the others. */
  async #generateAll(requests: ReadonlyArray<GenerationRequest>, outer: AbortSignal): Promise<ReadonlyArray<Completion> | string> {
    const model = this.#model
    if (model === undefined) return "the rollout fleet has no model to name: connect() or useModel() first"
    const controller = new AbortController()
    const abort = () => controller.abort()
    outer.addEventListener("abort", abort, { once: true })
    let failure: string | undefined
    try {
      const outcomes = await Promise.all(
        requests.map(async (request, index) => {
          const outcome = await this.#one(request, index, model, controller.signal)
          if (outcome.kind === "failed" && failure === undefined) {
            failure = outcome.reason
            controller.abort()
          }
          return outcome
        }),
      )
      if (failure !== undefined) return failure
      if (outer.aborted) return "interrupted"
      return outcomes.map((o) => (o as Extract<Outcome, { kind: "ok" }>).completion)
    } finally {
      outer.removeEventListener("abort", abort)
    }
  }

  /** One request with retries across engines. */
  async #one(request: GenerationRequest, index: number, model: string, signal: AbortSignal): Promise<Outcome> {
    const payload = JSON.stringify({ ...completionRequestBody(request, { model, endpoint: this.endpoint, requestTokenIds: true }), ...this.#options.extraBody })
    const route = this.endpoint === "completions" ? "completions" : "chat/completions"
    const lastAnswer = new Map<number, string>()
    let avoid: number | undefined
    for (let attempt = 0; ; attempt++) {
      const engine = await this.#slots.acquire(avoid, signal)
      if (engine === undefined) return { kind: "interrupted" }
      let problem: { readonly reason: string; readonly retryAfterMs?: number | undefined }
      try {
        const reply = await httpExchange(`${this.baseUrls[engine]}/${route}`, {
          method: "POST",
          headers: requestHeaders(this.#options.apiKey),
          body: payload,
          timeoutMs: this.#timeoutMs,
          signal,
        })
        if (reply.kind === "interrupted") return { kind: "interrupted" }
        const answer = this.#answer(request, reply)
        if (answer.kind === "ok") {
          this.#requests[engine]! += 1
          this.#completionTokens += answer.completion.tokenIds.length
          return answer
        }
        problem = answer
      } finally {
        this.#slots.release(engine)
      }
      this.#failures[engine]! += 1
      lastAnswer.set(engine, problem.reason)
      if (attempt >= this.#maxRetries) {
        const answers = [...lastAnswer].map(([e, reason]) => `${this.baseUrls[e]}: ${reason}`).join("; ")
        return { kind: "failed", reason: `rollout request failed after ${attempt + 1} attempts (${answers})` }
      }
      this.#retries += 1
      avoid = engine
      await pause(backoffDelay(index, attempt, problem.retryAfterMs, this.#backoff), signal)
      if (signal.aborted) return { kind: "interrupted" }
    }
  }

  /** A completion from a reply, or why the reply cannot be used. */
  #answer(request: GenerationRequest, reply: Exclude<HttpReply, { kind: "interrupted" }>): { readonly kind: "ok"; readonly completion: Completion } | { readonly kind: "retry"; readonly reason: string; readonly retryAfterMs: number | undefined } {
    if (reply.kind !== "response" || reply.status < 200 || reply.status >= 300) {
      return { kind: "retry", reason: describeReply(reply), retryAfterMs: reply.kind === "response" ? reply.retryAfterMs : undefined }
    }
    const parsed = parseCompletionResponse(this.endpoint, reply.text)
    if (parsed.kind === "malformed") return { kind: "retry", reason: parsed.reason, retryAfterMs: undefined }
    const { completion } = parsed
    const missing = completion.logprobs.filter((lp) => !Number.isFinite(lp) || lp > 1e-6).length
    if (missing > 0 || completion.logprobs.length !== completion.tokenIds.length) {
      return { kind: "retry", reason: `dropped log-probs: ${missing} of ${completion.logprobs.length} tokens have no usable log-prob`, retryAfterMs: undefined }
    }
    const check = this.#options.checkTokens?.(request, completion) ?? { kind: "ok", completion }
    if (check.kind === "ok") return check
    this.#mismatches += 1
    this.#lastMismatch = check.reason
    return { kind: "ok", completion: { ...completion, tokenIds: [], logprobs: [] } }
  }

  /**
   * One call on every engine at once, each retried with backoff; the response texts in engine
   * order, or a PolicyError naming every engine that kept failing and its last answer.
   * `doneOnRetry` accepts a failure answer as success when an earlier attempt got no answer or a
   * 5xx (it may have been carried out).
   */
  #everyEngine(
    method: "GET" | "POST",
    url: (base: string) => string,
    body: Readonly<Record<string, unknown>> | undefined,
    doneOnRetry: (reply: HttpReply) => boolean,
  ): Effect.Effect<Array<string>, PolicyError> {
    const once = async (e: number, signal: AbortSignal): Promise<{ ok: string } | { failed: string }> => {
      const target = url(this.baseUrls[e]!)
      // Whether an earlier attempt may have been carried out without its answer reaching us.
      let lost = false
      for (let attempt = 0; ; attempt++) {
        const reply = await httpExchange(target, {
          method,
          headers: requestHeaders(this.#options.apiKey),
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          timeoutMs: this.#syncTimeoutMs,
          signal,
        })
        if (reply.kind === "interrupted") return { failed: "interrupted" }
        if (reply.kind === "response" && reply.status >= 200 && reply.status < 300) return { ok: reply.text }
        if (lost && doneOnRetry(reply)) return { ok: "" }
        lost ||= reply.kind === "network" || reply.status >= 500
        if (attempt >= this.#maxRetries) {
          const what = body === undefined ? "" : ` ${JSON.stringify(body)}`
          return { failed: `engine ${this.baseUrls[e]}: ${method} ${new URL(target).pathname}${what} failed after ${attempt + 1} attempts: ${describeReply(reply)}` }
        }
        await pause(backoffDelay(e, attempt, reply.kind === "response" ? reply.retryAfterMs : undefined, this.#backoff), signal)
      }
    }
    return Effect.promise((signal) => Promise.all(this.baseUrls.map((_, e) => once(e, signal)))).pipe(
      Effect.flatMap((results) => {
        const failed = results.flatMap((r) => ("failed" in r ? [r.failed] : []))
        return failed.length > 0 ? Effect.fail(new PolicyError({ reason: failed.join("; ") })) : Effect.succeed(results.map((r) => (r as { ok: string }).ok))
      }),
    )
  }
}
