import type { Completion, GenerationRequest } from "./Policy.ts"
import { mixSeed } from "./Rng.ts"

/**
 * The HTTP side of OpenAI-compatible endpoints, shared by {@link OpenAIPolicy} (one endpoint)
 * and {@link RolloutFleet} (several engines with weight sync): request bodies, one POST under a
 * deadline, response parsing and backoff.
 */

/** Which generation route a client speaks: raw prompts to `/completions`, or one user message to `/chat/completions`. */
export type CompletionEndpoint = "completions" | "chat"

/** What one HTTP exchange gave: a response (any status) or no response at all. */
export type HttpReply =
  | { readonly kind: "response"; readonly status: number; readonly text: string; readonly retryAfterMs: number | undefined }
  | { readonly kind: "network"; readonly reason: string }
  | { readonly kind: "interrupted" }

/** A parsed completion response, or what is wrong with it. */
export type ParsedCompletion =
  | { readonly kind: "ok"; readonly completion: Completion; readonly usage: { readonly prompt: number; readonly completion: number } }
  | { readonly kind: "malformed"; readonly reason: string }

const tokenIdPattern = /^token_id:(-?\d+)$/

export const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value)

const finiteOr = (value: unknown, fallback: number): number => (typeof value === "number" && Number.isFinite(value) ? value : fallback)

/** `Retry-After` in milliseconds (delta-seconds or an HTTP date), if the header is usable. */
const retryAfterMs = (header: string | null): number | undefined => {
  if (header === null) return undefined
  const seconds = Number(header)
  if (header.trim() !== "" && Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

/**
 * Why `url` cannot be an endpoint's API root (not a URL, or not http or https); undefined when it can.
 *
 * @example
 * apiRootProblem("ftp://x/v1") // '"ftp://x/v1" is not an http(s) URL'
 */
export const apiRootProblem = (url: string): string | undefined => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return `${JSON.stringify(url)} is not a URL`
  }
  return parsed.protocol === "http:" || parsed.protocol === "https:" ? undefined : `${JSON.stringify(url)} is not an http(s) URL`
}

/**
 * The first option below its least allowed value (or not a finite number), with the field it is
 * about; undefined when all given ones are fine (an undefined value is not given).
 *
 * @example
 * boundsProblem([["timeoutMs", 0, 1]]) // { field: "timeoutMs", detail: "timeoutMs must be a number >= 1, got 0" }
 */
export const boundsProblem = <F extends string>(
  bounds: ReadonlyArray<readonly [field: F, value: number | undefined, min: number]>,
): { readonly field: F; readonly detail: string } | undefined => {
  for (const [field, value, min] of bounds) {
    if (value !== undefined && !(Number.isFinite(value) && value >= min)) return { field, detail: `${field} must be a number >= ${min}, got ${value}` }
  }
  return undefined
}

/**
 * The error message of an OpenAI-style error body (`{ error: { message } }` or `{ message }`),
 * else the start of the raw text.
 *
 * @example
 * errorMessage('{"error":{"message":"no such model"}}') // "no such model"
 */
export const errorMessage = (text: string): string => {
  try {
    const body: unknown = JSON.parse(text)
    if (isRecord(body) && isRecord(body["error"]) && typeof body["error"]["message"] === "string") return body["error"]["message"]
    if (isRecord(body) && typeof body["message"] === "string") return body["message"]
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return text.slice(0, 300)
}

/**
 * The request headers: JSON content, the bearer token when there is one, and extra headers.
 *
 * @example
 * requestHeaders("k") // { "content-type": "application/json", authorization: "Bearer k" }
 */
export const requestHeaders = (apiKey: string | undefined, extra: Readonly<Record<string, string>> = {}): Record<string, string> => ({
  "content-type": "application/json",
  ...extra,
  ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
})

/**
 * One HTTP request under a deadline: the response with its status and text, or why none came
 * (`network`: refused, reset or over `timeoutMs`; `interrupted`: `signal` aborted).
 *
 * @example
 * const reply = await httpExchange("http://127.0.0.1:8000/v1/models", { method: "GET", headers: {}, timeoutMs: 5000, signal })
 */
export const httpExchange = async (
  url: string,
  init: { readonly method: "GET" | "POST"; readonly headers: Record<string, string>; readonly body?: string; readonly timeoutMs: number; readonly signal: AbortSignal },
): Promise<HttpReply> => {
  const timeout = AbortSignal.timeout(init.timeoutMs)
  try {
    const response = await fetch(url, {
      method: init.method,
      headers: init.headers,
      ...(init.body === undefined ? {} : { body: init.body }),
      signal: AbortSignal.any([init.signal, timeout]),
    })
    const text = await response.text()
    return { kind: "response", status: response.status, text, retryAfterMs: retryAfterMs(response.headers.get("retry-after")) }
  } catch (cause) {
    if (init.signal.aborted) return { kind: "interrupted" }
    return { kind: "network", reason: timeout.aborted ? `timed out after ${init.timeoutMs} ms` : cause instanceof Error ? cause.message : String(cause) }
  }
}

/**
 * Whether a reply is worth retrying: no response, 429 or a 5xx.
 *
 * @example
 * retryableReply({ kind: "response", status: 503, text: "", retryAfterMs: undefined }) // true
 */
export const retryableReply = (reply: HttpReply): boolean =>
  reply.kind === "network" || (reply.kind === "response" && (reply.status === 429 || reply.status >= 500))

/**
 * A reply in a few words for an error message: the status and the server's message, or why no
 * response came.
 *
 * @example
 * describeReply({ kind: "response", status: 500, text: "boom", retryAfterMs: undefined }) // "HTTP 500: boom"
 */
export const describeReply = (reply: HttpReply): string =>
  reply.kind === "response" ? `HTTP ${reply.status}: ${errorMessage(reply.text)}` : reply.kind === "network" ? reply.reason : "interrupted"

/**
 * The JSON body of one generation request with n = 1: `prompt` (or one user message for `chat`),
 * `max_tokens`, `temperature`, `top_p`, `stop`, `seed`, per-token `logprobs`, and
 * `return_tokens_as_token_ids` when `requestTokenIds`.
 *
 * @example
 * completionRequestBody({ prompt: "P", maxTokens: 4, temperature: 0 }, { model: "m", endpoint: "completions", requestTokenIds: true })
 */
export const completionRequestBody = (
  request: GenerationRequest,
  options: { readonly model: string; readonly endpoint: CompletionEndpoint; readonly requestTokenIds: boolean },
): Record<string, unknown> => {
  const body: Record<string, unknown> = { model: options.model, max_tokens: request.maxTokens, temperature: request.temperature, n: 1 }
  if (options.endpoint === "completions") {
    body["prompt"] = request.prompt
    body["logprobs"] = 1
  } else {
    body["messages"] = [{ role: "user", content: request.prompt }]
    body["logprobs"] = true
  }
  if (request.topP !== undefined) body["top_p"] = request.topP
  if (request.stop !== undefined && request.stop.length > 0) body["stop"] = [...request.stop]
  if (request.seed !== undefined) body["seed"] = request.seed
  if (options.requestTokenIds) body["return_tokens_as_token_ids"] = true
  return body
}

/**
 * Token ids and log-probs of one choice. Tokens written `token_id:N` (the answer to
 * `return_tokens_as_token_ids`) give exact ids; other token strings give -1 per token. Without
 * any log-prob data the usage count gives the length, with -1 ids and NaN log-probs.
 */
const tokensOf = (
  entries: ReadonlyArray<{ readonly token: unknown; readonly logprob: unknown }> | undefined,
  completionTokens: number | undefined,
): { tokenIds: Array<number>; logprobs: Array<number> } => {
  if (entries === undefined) {
    const count = completionTokens ?? 0
    return { tokenIds: Array.from({ length: count }, () => -1), logprobs: Array.from({ length: count }, () => Number.NaN) }
  }
  return {
    tokenIds: entries.map(({ token }) => {
      const match = typeof token === "string" ? tokenIdPattern.exec(token) : null
      return match === null ? -1 : Number(match[1])
    }),
    logprobs: entries.map(({ logprob }) => finiteOr(logprob, Number.NaN)),
  }
}

/**
 * Parses the text of a `/completions` or `/chat/completions` response into a completion: text,
 * token ids (-1 where the server wrote tokens as text), log-probs (NaN where missing), prompt
 * tokens and finish reason; `malformed` when it is not JSON or has no usable first choice.
 *
 * @example
 * parseCompletionResponse("completions", '{"choices":[{"text":"4","finish_reason":"stop"}]}') // { kind: "ok", ... }
 */
export const parseCompletionResponse = (endpoint: CompletionEndpoint, text: string): ParsedCompletion => {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return { kind: "malformed", reason: `malformed response: not JSON: ${JSON.stringify(text.slice(0, 120))}` }
  }
  if (!isRecord(body) || !Array.isArray(body["choices"]) || !isRecord(body["choices"][0])) {
    return { kind: "malformed", reason: "malformed response: no choices" }
  }
  const choice = body["choices"][0]
  const usage = isRecord(body["usage"]) ? body["usage"] : {}
  const usagePrompt = typeof usage["prompt_tokens"] === "number" ? usage["prompt_tokens"] : undefined
  const usageCompletion = typeof usage["completion_tokens"] === "number" ? usage["completion_tokens"] : undefined
  let content: string
  let entries: Array<{ token: unknown; logprob: unknown }> | undefined
  if (endpoint === "completions") {
    if (typeof choice["text"] !== "string") return { kind: "malformed", reason: "malformed response: choices[0].text is not a string" }
    content = choice["text"]
    const lp = choice["logprobs"]
    if (isRecord(lp) && Array.isArray(lp["tokens"]) && Array.isArray(lp["token_logprobs"])) {
      const logprobs = lp["token_logprobs"] as ReadonlyArray<unknown>
      entries = (lp["tokens"] as ReadonlyArray<unknown>).map((token, i) => ({ token, logprob: logprobs[i] }))
    }
  } else {
    const message = choice["message"]
    if (!isRecord(message)) return { kind: "malformed", reason: "malformed response: choices[0].message is missing" }
    content = typeof message["content"] === "string" ? message["content"] : ""
    const lp = choice["logprobs"]
    if (isRecord(lp) && Array.isArray(lp["content"])) {
      entries = (lp["content"] as ReadonlyArray<unknown>).map((e) => (isRecord(e) ? { token: e["token"], logprob: e["logprob"] } : { token: undefined, logprob: undefined }))
    }
  }
  const { tokenIds, logprobs } = tokensOf(entries, usageCompletion)
  const completion: Completion = {
    text: content,
    tokenIds,
    logprobs,
    promptTokens: usagePrompt ?? 0,
    finishReason: choice["finish_reason"] === "length" ? "length" : "stop",
  }
  return { kind: "ok", completion, usage: { prompt: usagePrompt ?? 0, completion: usageCompletion ?? tokenIds.length } }
}

/**
 * The wait before retry `attempt` (0-based) of request `index`: `Retry-After` when the server
 * sent one, else `backoffMs * 2^attempt` with deterministic jitter in [0.5, 1); both capped at
 * `maxBackoffMs`.
 *
 * @example
 * backoffDelay(0, 2, undefined, { backoffMs: 500, maxBackoffMs: 30000 }) // between 1000 and 2000
 */
export const backoffDelay = (
  index: number,
  attempt: number,
  retryAfter: number | undefined,
  options: { readonly backoffMs: number; readonly maxBackoffMs: number },
): number => {
  if (retryAfter !== undefined) return Math.min(retryAfter, options.maxBackoffMs)
  const jitter = 0.5 + 0.5 * (mixSeed(index, attempt) / 2 ** 32)
  return Math.min(options.maxBackoffMs, options.backoffMs * 2 ** attempt * jitter)
}
