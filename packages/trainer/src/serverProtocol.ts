import { Data } from "effect"

/**
 * An HTTP error with an OpenAI-style body:
 * `{ "error": { "message", "type", "param", "code" } }`.
 */
export class ApiError extends Data.TaggedError("ApiError")<{
  readonly status: number
  readonly message: string
  readonly type: string
  readonly param: string | null
  readonly code: string | null
}> {
  /** The response body. */
  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } }
  }
}

/** A 400 `invalid_request_error` naming the offending field. */
export const invalidRequest = (param: string | null, message: string, code: string | null = null): ApiError =>
  new ApiError({ status: 400, message, type: "invalid_request_error", param, code })

/** Sampling parameters shared by both endpoints, validated. */
export interface SamplingParams {
  /** The `model` field, when given. */
  readonly model: string | undefined
  /** Most new tokens; `undefined` means up to the model's context. */
  readonly maxTokens: number | undefined
  readonly temperature: number
  readonly topP: number
  readonly stop: ReadonlyArray<string>
  readonly seed: number | undefined
  readonly n: number
  readonly stream: boolean
  /** `stream_options.include_usage`. */
  readonly includeUsage: boolean
  /** Log-probs wanted; `topLogprobs` is how many alternatives were asked for. */
  readonly logprobs: boolean
  readonly topLogprobs: number
  /** Write each token as `token_id:N` (the `return_tokens_as_token_ids` extension). */
  readonly tokenIdsAsTokens: boolean
}

/** A validated `POST /v1/completions` request. */
export interface CompletionRequestBody extends SamplingParams {
  readonly prompts: ReadonlyArray<string>
}

/** One chat message. */
export interface ChatMessage {
  readonly role: "system" | "developer" | "user" | "assistant" | "tool"
  readonly content: string
}

/** A validated `POST /v1/chat/completions` request. */
export interface ChatRequestBody extends SamplingParams {
  readonly messages: ReadonlyArray<ChatMessage>
}

/** Bounds the request parser enforces. */
export interface RequestLimits {
  /** Most choices per prompt (`n`). */
  readonly maxN: number
  /** Most sequences (prompts x n) one request may ask for. */
  readonly maxSequences: number
  /** Most stop strings. */
  readonly maxStops: number
}

export const defaultRequestLimits: RequestLimits = { maxN: 128, maxSequences: 1024, maxStops: 16 }

type Json = Record<string, unknown>

const typeName = (value: unknown): string => (value === null ? "null" : Array.isArray(value) ? "array" : typeof value)

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value)

/** Reads an optional field; `null` counts as absent, as in OpenAI's API. */
const field = (body: Json, name: string): unknown => (body[name] === null ? undefined : body[name])

const numberField = (body: Json, name: string, fallback: number, min: number, max: number, integer = false): number => {
  const value = field(body, name)
  if (value === undefined) return fallback
  if (typeof value !== "number" || !Number.isFinite(value)) throw invalidRequest(name, `${name} must be a number, got ${typeName(value)}`)
  if (integer && !Number.isInteger(value)) throw invalidRequest(name, `${name} must be an integer, got ${value}`)
  if (value < min || value > max) throw invalidRequest(name, `${name} must be between ${min} and ${max}, got ${value}`)
  return value
}

const optionalInteger = (body: Json, name: string, min: number, max: number): number | undefined =>
  field(body, name) === undefined ? undefined : numberField(body, name, 0, min, max, true)

const booleanField = (body: Json, name: string, fallback: boolean): boolean => {
  const value = field(body, name)
  if (value === undefined) return fallback
  if (typeof value !== "boolean") throw invalidRequest(name, `${name} must be a boolean, got ${typeName(value)}`)
  return value
}

/** Fields this server does not implement: accepted only at their neutral values. */
const rejectUnsupported = (body: Json): void => {
  for (const name of ["frequency_penalty", "presence_penalty"]) {
    if (numberField(body, name, 0, -2, 2) !== 0) throw invalidRequest(name, `${name} is not supported by this server (use 0)`, "unsupported_parameter")
  }
  const bias = field(body, "logit_bias")
  if (bias !== undefined && (!isObject(bias) || Object.keys(bias).length > 0)) {
    throw invalidRequest("logit_bias", "logit_bias is not supported by this server", "unsupported_parameter")
  }
  const tools = field(body, "tools")
  if (tools !== undefined && (!Array.isArray(tools) || tools.length > 0)) {
    throw invalidRequest("tools", "tools are not supported by this server", "unsupported_parameter")
  }
}

const stopField = (body: Json, limits: RequestLimits): Array<string> => {
  const value = field(body, "stop")
  if (value === undefined) return []
  const list = typeof value === "string" ? [value] : value
  if (!Array.isArray(list) || list.some((s) => typeof s !== "string")) {
    throw invalidRequest("stop", `stop must be a string or an array of strings, got ${typeName(value)}`)
  }
  if (list.length > limits.maxStops) throw invalidRequest("stop", `stop has ${list.length} strings; at most ${limits.maxStops} are allowed`)
  return (list as Array<string>).filter((s) => s.length > 0)
}

const modelField = (body: Json): string | undefined => {
  const value = field(body, "model")
  if (value === undefined) return undefined
  if (typeof value !== "string") throw invalidRequest("model", `model must be a string, got ${typeName(value)}`)
  return value
}

const streamOptions = (body: Json, stream: boolean): boolean => {
  const value = field(body, "stream_options")
  if (value === undefined) return false
  if (!isObject(value)) throw invalidRequest("stream_options", `stream_options must be an object, got ${typeName(value)}`)
  if (!stream) throw invalidRequest("stream_options", "stream_options is only allowed when stream is true")
  return booleanField(value, "include_usage", false)
}

/** The parameters common to both endpoints. `maxTokensNames` lists accepted spellings of max_tokens. */
const commonParams = (
  body: Json,
  limits: RequestLimits,
  maxTokensNames: ReadonlyArray<string>,
): Omit<SamplingParams, "logprobs" | "topLogprobs"> => {
  rejectUnsupported(body)
  const stream = booleanField(body, "stream", false)
  const maxTokensName = maxTokensNames.find((name) => field(body, name) !== undefined)
  const n = numberField(body, "n", 1, 1, limits.maxN, true)
  return {
    model: modelField(body),
    maxTokens: maxTokensName === undefined ? undefined : numberField(body, maxTokensName, 0, 0, Number.MAX_SAFE_INTEGER, true),
    temperature: numberField(body, "temperature", 1, 0, 2),
    topP: (() => {
      const p = numberField(body, "top_p", 1, 0, 1)
      if (p <= 0) throw invalidRequest("top_p", "top_p must be greater than 0")
      return p
    })(),
    stop: stopField(body, limits),
    seed: optionalInteger(body, "seed", Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    n,
    stream,
    includeUsage: streamOptions(body, stream),
    tokenIdsAsTokens: booleanField(body, "return_tokens_as_token_ids", false),
  }
}

const requireObject = (body: unknown): Json => {
  if (!isObject(body)) throw invalidRequest(null, `the request body must be a JSON object, got ${typeName(body)}`)
  return body
}

/**
 * Validates a `/v1/completions` body. `prompt` is a string or a non-empty array of strings;
 * `logprobs` (0-20) asks for per-token log-probs; `echo`, `suffix` and `best_of` other than `n`
 * are rejected; `max_tokens` defaults to 16 as in OpenAI's API. Throws an {@link ApiError}.
 *
 * @example
 * parseCompletionRequest({ prompt: "2+2=", max_tokens: 4 }).prompts // ["2+2="]
 */
export const parseCompletionRequest = (raw: unknown, limits: RequestLimits = defaultRequestLimits): CompletionRequestBody => {
  const body = requireObject(raw)
  const prompt = body["prompt"]
  let prompts: Array<string>
  if (typeof prompt === "string") prompts = [prompt]
  else if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((p) => typeof p === "string")) prompts = prompt as Array<string>
  else if (prompt === undefined || prompt === null) throw invalidRequest("prompt", "prompt is required")
  else throw invalidRequest("prompt", `prompt must be a string or a non-empty array of strings (token-id prompts are not supported), got ${typeName(prompt)}`)
  if (booleanField(body, "echo", false)) throw invalidRequest("echo", "echo is not supported by this server", "unsupported_parameter")
  const suffix = field(body, "suffix")
  if (suffix !== undefined && suffix !== "") throw invalidRequest("suffix", "suffix is not supported by this server", "unsupported_parameter")
  const params = commonParams(body, limits, ["max_tokens"])
  const bestOf = optionalInteger(body, "best_of", 1, limits.maxN)
  if (bestOf !== undefined && bestOf !== params.n) throw invalidRequest("best_of", "best_of must equal n on this server", "unsupported_parameter")
  if (prompts.length * params.n > limits.maxSequences) {
    throw invalidRequest("n", `the request asks for ${prompts.length * params.n} sequences (prompts x n); at most ${limits.maxSequences} are allowed`)
  }
  const logprobs = optionalInteger(body, "logprobs", 0, 20)
  return { ...params, maxTokens: params.maxTokens ?? 16, prompts, logprobs: logprobs !== undefined, topLogprobs: logprobs ?? 0 }
}

const chatRoles: ReadonlyArray<ChatMessage["role"]> = ["system", "developer", "user", "assistant", "tool"]

const messageContent = (value: unknown, at: string): string => {
  if (value === undefined || value === null) return ""
  if (typeof value === "string") return value
  if (Array.isArray(value)) {
    return value
      .map((part, i) => {
        if (!isObject(part) || part["type"] !== "text" || typeof part["text"] !== "string") {
          throw invalidRequest(`${at}[${i}]`, `${at}[${i}] must be a text part { "type": "text", "text": string }`)
        }
        return part["text"]
      })
      .join("")
  }
  throw invalidRequest(at, `${at} must be a string or an array of text parts, got ${typeName(value)}`)
}

/**
 * Validates a `/v1/chat/completions` body: `messages` is a non-empty array of
 * `{ role, content }` with role system, developer, user, assistant or tool and content a
 * string or text parts; `logprobs` is a boolean and `top_logprobs` 0-20; `max_tokens` or
 * `max_completion_tokens` defaults to the model's remaining context. Throws an {@link ApiError}.
 *
 * @example
 * parseChatRequest({ messages: [{ role: "user", content: "hi" }] }).messages.length // 1
 */
export const parseChatRequest = (raw: unknown, limits: RequestLimits = defaultRequestLimits): ChatRequestBody => {
  const body = requireObject(raw)
  const list = body["messages"]
  if (list === undefined || list === null) throw invalidRequest("messages", "messages is required")
  if (!Array.isArray(list) || list.length === 0) throw invalidRequest("messages", `messages must be a non-empty array, got ${typeName(list)}`)
  const messages = list.map((m, i): ChatMessage => {
    if (!isObject(m)) throw invalidRequest(`messages[${i}]`, `messages[${i}] must be an object, got ${typeName(m)}`)
    const role = m["role"]
    if (typeof role !== "string" || !chatRoles.includes(role as ChatMessage["role"])) {
      throw invalidRequest(`messages[${i}].role`, `messages[${i}].role must be one of ${chatRoles.join(", ")}`)
    }
    return { role: role as ChatMessage["role"], content: messageContent(m["content"], `messages[${i}].content`) }
  })
  const format = field(body, "response_format")
  if (format !== undefined && (!isObject(format) || format["type"] !== "text")) {
    throw invalidRequest("response_format", "only response_format { \"type\": \"text\" } is supported", "unsupported_parameter")
  }
  const params = commonParams(body, limits, ["max_completion_tokens", "max_tokens"])
  if (params.n > limits.maxSequences) throw invalidRequest("n", `n is ${params.n}; at most ${limits.maxSequences} sequences are allowed`)
  const logprobs = booleanField(body, "logprobs", false)
  const top = optionalInteger(body, "top_logprobs", 0, 20)
  if (top !== undefined && top > 0 && !logprobs) throw invalidRequest("top_logprobs", "top_logprobs needs logprobs: true")
  return { ...params, messages, logprobs, topLogprobs: top ?? 0 }
}

const chatLabels: Readonly<Record<ChatMessage["role"], string>> = {
  system: "System",
  developer: "System",
  user: "User",
  assistant: "Assistant",
  tool: "Tool",
}

/** Stop strings added to every chat request so that a reply ends where the next turn would start. */
export const chatStops: ReadonlyArray<string> = ["\nUser:", "\nSystem:"]

/**
 * The chat template (the byte-level model has no chat format of its own): one line per
 * message, `System: ...`, `User: ...`, `Assistant: ...` or `Tool: ...` (developer messages
 * count as system), each ended by a newline, then `Assistant:` for the reply. The server adds
 * {@link chatStops} to the request's stop strings.
 *
 * @example
 * renderChat([{ role: "system", content: "Be brief." }, { role: "user", content: "2+2?" }])
 * // "System: Be brief.\nUser: 2+2?\nAssistant:"
 */
export const renderChat = (messages: ReadonlyArray<ChatMessage>): string =>
  `${messages.map((m) => `${chatLabels[m.role]}: ${m.content}\n`).join("")}Assistant:`
