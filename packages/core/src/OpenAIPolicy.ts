import { Effect, Layer, Semaphore } from "effect"
import { ConfigError, PolicyError } from "./Errors.ts"
import { PolicyService, type Completion, type GenerationRequest, type Policy } from "./Policy.ts"
import type { Role } from "./Role.ts"
import {
  apiRootProblem,
  backoffDelay,
  boundsProblem,
  completionRequestBody,
  describeReply,
  httpExchange,
  parseCompletionResponse,
  requestHeaders,
  retryableReply,
  type CompletionEndpoint,
} from "./openAIHttp.ts"

/** How to reach an OpenAI-compatible endpoint and how hard to try. */
export interface OpenAIPolicyOptions {
  /** The API root, for example `http://127.0.0.1:8000/v1` (a trailing slash is ignored). */
  readonly baseUrl: string
  /** The `model` field of every request. */
  readonly model: string
  /** The bearer token; when absent it is read from the environment variable `apiKeyEnv`. */
  readonly apiKey?: string
  /** Environment variable holding the bearer token (default `OPENAI_API_KEY`); unset means no token. */
  readonly apiKeyEnv?: string
  /** Shown in logs and metrics; defaults to `model@baseUrl`. */
  readonly name?: string
  /** `completions` (default): raw prompts to `/completions`; `chat`: each prompt as one user message to `/chat/completions`. */
  readonly endpoint?: CompletionEndpoint
  /** Most HTTP requests in flight at once, over all concurrent `generate` calls (default 32). */
  readonly maxConcurrency?: number
  /** Limit of one HTTP attempt in milliseconds (default 120000). */
  readonly timeoutMs?: number
  /** Retries of a request after a 429, a 5xx, a network error or a timeout (default 6). */
  readonly maxRetries?: number
  /** First backoff delay in milliseconds; doubles per retry (default 500). */
  readonly backoffMs?: number
  /** Longest backoff delay, also the cap on a server's `Retry-After` (default 30000). */
  readonly maxBackoffMs?: number
  /**
   * Ask for token ids with the `return_tokens_as_token_ids` request field (default true). The
   * project's server and vLLM understand it; set false for servers that reject unknown fields.
   */
  readonly requestTokenIds?: boolean
  /** Extra request headers. */
  readonly headers?: Readonly<Record<string, string>>
}

/** Tokens spent by some requests. */
export interface TokenUsage {
  readonly requests: number
  readonly promptTokens: number
  readonly completionTokens: number
}

/** What an {@link OpenAIPolicy} has used so far. */
export interface OpenAIUsage extends TokenUsage {
  /** HTTP attempts that were retried (429, 5xx, network errors, timeouts). */
  readonly retries: number
  /** Requests that failed for good. */
  readonly failures: number
  /** The same counts by the `role` of each request (`none` when a request had no role). */
  readonly byRole: Readonly<Record<Role | "none", TokenUsage>>
}

interface MutableUsage {
  requests: number
  promptTokens: number
  completionTokens: number
}

/** The answer to one HTTP attempt: a completion, or a failure that may be retried. */
type Attempt =
  | { readonly kind: "ok"; readonly completion: Completion; readonly usage: { readonly prompt: number; readonly completion: number } }
  | { readonly kind: "retry"; readonly reason: string; readonly retryAfterMs: number | undefined }
  | { readonly kind: "fail"; readonly reason: string }

/** The first option that cannot be used, with the field it is about; undefined when all are fine. */
const optionsProblem = (options: OpenAIPolicyOptions): { readonly field: string; readonly detail: string } | undefined => {
  const url = apiRootProblem(options.baseUrl)
  if (url !== undefined) return { field: "baseUrl", detail: `baseUrl: ${url}` }
  if (options.model.length === 0) return { field: "model", detail: "model must not be empty" }
  return boundsProblem<keyof OpenAIPolicyOptions>([
    ["timeoutMs", options.timeoutMs, 1],
    ["maxRetries", options.maxRetries, 0],
    ["backoffMs", options.backoffMs, 0],
    ["maxBackoffMs", options.maxBackoffMs, 0],
    ["maxConcurrency", options.maxConcurrency, 1],
  ])
}

/**
 * A `Policy` backed by an OpenAI-compatible HTTP endpoint (the project's `serve` command, vLLM,
 * SGLang, llama.cpp, Ollama, ...). Each request becomes one `POST {baseUrl}/completions` (or
 * `/chat/completions`) with `n = 1`, `max_tokens`, `temperature`, `top_p`, `stop`, `seed` and
 * `logprobs`; requests run concurrently up to `maxConcurrency`, each attempt under `timeoutMs`,
 * with exponential backoff (deterministic jitter, `Retry-After` honoured) on 429, 5xx, network
 * errors and timeouts. Other statuses fail at once with a `PolicyError` naming the status and
 * the server's message.
 *
 * What a completion holds depends on the server: against the project's server `tokenIds` and
 * `logprobs` are exact (the same as the local model's for the same seed). Servers that return
 * log-probs but not token ids give `tokenIds` of -1; servers that return no log-probs give -1
 * ids and NaN log-probs, one per `usage.completion_tokens`. `promptTokens` is
 * `usage.prompt_tokens` (0 when absent). The log-probs are whatever the server reports (the
 * project's server: the distribution each token was drawn from, as the local sampler).
 *
 * @example
 * const policy = new OpenAIPolicy({ baseUrl: "http://127.0.0.1:8000/v1", model: "latest" })
 * const [c] = yield* policy.generate([{ prompt: "Problem: 2+3\nSolution:", maxTokens: 32, temperature: 0 }])
 * policy.usage().completionTokens
 */
export class OpenAIPolicy implements Policy {
  readonly name: string
  readonly baseUrl: string
  readonly model: string
  readonly endpoint: CompletionEndpoint
  readonly #apiKey: string | undefined
  readonly #timeoutMs: number
  readonly #maxRetries: number
  readonly #backoffMs: number
  readonly #maxBackoffMs: number
  readonly #requestTokenIds: boolean
  readonly #headers: Readonly<Record<string, string>>
  readonly #semaphore: Semaphore.Semaphore
  readonly #total: MutableUsage = { requests: 0, promptTokens: 0, completionTokens: 0 }
  readonly #byRole: Record<Role | "none", MutableUsage> = {
    solver: { requests: 0, promptTokens: 0, completionTokens: 0 },
    critic: { requests: 0, promptTokens: 0, completionTokens: 0 },
    refiner: { requests: 0, promptTokens: 0, completionTokens: 0 },
    none: { requests: 0, promptTokens: 0, completionTokens: 0 },
  }
  #retries = 0
  #failures = 0

  constructor(options: OpenAIPolicyOptions) {
    const problem = optionsProblem(options)
    if (problem !== undefined) throw new RangeError(problem.detail)
    this.baseUrl = options.baseUrl.replace(/\/+$/, "")
    this.model = options.model
    this.name = options.name ?? `${options.model}@${this.baseUrl}`
    this.endpoint = options.endpoint ?? "completions"
    const fromEnv = process.env[options.apiKeyEnv ?? "OPENAI_API_KEY"]
    this.#apiKey = options.apiKey ?? (fromEnv === undefined || fromEnv === "" ? undefined : fromEnv)
    this.#timeoutMs = options.timeoutMs ?? 120_000
    this.#maxRetries = Math.floor(options.maxRetries ?? 6)
    this.#backoffMs = options.backoffMs ?? 500
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000
    this.#requestTokenIds = options.requestTokenIds ?? true
    this.#headers = options.headers ?? {}
    this.#semaphore = Semaphore.makeUnsafe(Math.floor(options.maxConcurrency ?? 32))
  }

  /**
   * A policy for the options, or a ConfigError naming the option that is not usable.
   *
   * @example
   * const policy = yield* OpenAIPolicy.make({ baseUrl: "http://127.0.0.1:8000/v1", model: "latest" })
   */
  static make(options: OpenAIPolicyOptions): Effect.Effect<OpenAIPolicy, ConfigError> {
    return Effect.suspend(() => {
      const problem = optionsProblem(options)
      return problem === undefined ? Effect.succeed(new OpenAIPolicy(options)) : Effect.fail(new ConfigError(problem))
    })
  }

  /**
   * The endpoint as the program's `PolicyService` (use `Layer.effect(CriticPolicy, OpenAIPolicy.make(...))` for a critic).
   *
   * @example
   * program.pipe(Effect.provide(OpenAIPolicy.layer({ baseUrl, model })))
   */
  static layer(options: OpenAIPolicyOptions): Layer.Layer<PolicyService, ConfigError> {
    return Layer.effect(PolicyService, OpenAIPolicy.make(options))
  }

  /**
   * Token usage so far, in total and by role.
   *
   * @example
   * policy.usage().byRole.critic.completionTokens // critique tokens spent
   */
  usage(): OpenAIUsage {
    const copy = (u: MutableUsage): TokenUsage => ({ ...u })
    return {
      ...copy(this.#total),
      retries: this.#retries,
      failures: this.#failures,
      byRole: {
        solver: copy(this.#byRole.solver),
        critic: copy(this.#byRole.critic),
        refiner: copy(this.#byRole.refiner),
        none: copy(this.#byRole.none),
      },
    }
  }

  generate(requests: ReadonlyArray<GenerationRequest>): Effect.Effect<ReadonlyArray<Completion>, PolicyError> {
    return Effect.forEach(requests, (request, index) => this.#one(request, index), { concurrency: "unbounded" })
  }

  /** One HTTP attempt, aborted by `signal` (interruption) or the per-attempt timeout. */
  async #attempt(url: string, payload: string, signal: AbortSignal): Promise<Attempt> {
    const reply = await httpExchange(url, { method: "POST", headers: requestHeaders(this.#apiKey, this.#headers), body: payload, timeoutMs: this.#timeoutMs, signal })
    if (reply.kind === "interrupted") return { kind: "fail", reason: "interrupted" }
    if (retryableReply(reply)) return { kind: "retry", reason: describeReply(reply), retryAfterMs: reply.kind === "response" ? reply.retryAfterMs : undefined }
    if (reply.kind !== "response" || reply.status < 200 || reply.status >= 300) return { kind: "fail", reason: describeReply(reply) }
    const parsed = parseCompletionResponse(this.endpoint, reply.text)
    return parsed.kind === "ok" ? parsed : { kind: "fail", reason: parsed.reason }
  }

  #one(request: GenerationRequest, index: number): Effect.Effect<Completion, PolicyError> {
    const self = this
    const url = `${this.baseUrl}/${this.endpoint === "completions" ? "completions" : "chat/completions"}`
    const payload = JSON.stringify(completionRequestBody(request, { model: this.model, endpoint: this.endpoint, requestTokenIds: this.#requestTokenIds }))
    const role = request.role ?? "none"
    return Effect.gen(function* () {
      for (let attempt = 0; ; attempt++) {
        const outcome = yield* self.#semaphore.withPermits(1)(
          Effect.promise((signal) => self.#attempt(url, payload, signal)),
        )
        if (outcome.kind === "ok") {
          for (const u of [self.#total, self.#byRole[role]]) {
            u.requests += 1
            u.promptTokens += outcome.usage.prompt
            u.completionTokens += outcome.usage.completion
          }
          return outcome.completion
        }
        if (outcome.kind === "fail" || attempt >= self.#maxRetries) {
          self.#failures += 1
          const tries = outcome.kind === "retry" ? ` (after ${attempt + 1} attempts)` : ""
          return yield* Effect.fail(new PolicyError({ reason: `POST ${url}: ${outcome.reason}${tries}` }))
        }
        self.#retries += 1
        yield* Effect.sleep(backoffDelay(index, attempt, outcome.retryAfterMs, { backoffMs: self.#backoffMs, maxBackoffMs: self.#maxBackoffMs }))
      }
    })
  }
}
