import { type Completion, type GenerationRequest, mixSeed } from "@icrl/core"
import { createHash, timingSafeEqual } from "node:crypto"
import { basename, resolve } from "node:path"
import { loadLocalModel } from "./localModel.ts"
import { modelConfig, type PresetName, TransformerModel } from "./model.ts"
import { generateInTurns } from "./sampler.ts"
import {
  ApiError,
  chatStops,
  defaultRequestLimits,
  invalidRequest,
  parseChatRequest,
  parseCompletionRequest,
  renderChat,
  type SamplingParams,
} from "./serverProtocol.ts"
import { ServedModel, type NamedAdapter } from "./servedModel.ts"
import { BatchQueue, type BatchQueueStats } from "./serverQueue.ts"
import { ByteTokenizer, encodePrompt, type Tokenizer, withoutChatTemplate } from "./tokenizer.ts"

/** How to serve a model. */
export interface ServerOptions {
  readonly model: TransformerModel
  readonly tokenizer: Tokenizer
  /** The id of the model in `/v1/models` and in responses. */
  readonly modelName: string
  /** Interface to listen on (default `127.0.0.1`, loopback only). */
  readonly hostname?: string
  /** Port (default 8000; 0 picks a free port). */
  readonly port?: number
  /** When set, every `/v1` request needs `Authorization: Bearer <apiKey>` (else 401). */
  readonly apiKey?: string
  /** Most sequences per sampler batch (default 64). */
  readonly maxBatchSize?: number
  /** How long a request waits for others to join its batch, in ms (default 5). */
  readonly batchWindowMs?: number
  /**
   * Most padded prompt tokens (rows x longest prompt) per sampler call (default 8192). A batch
   * over it runs as several calls, shortest prompts first. The prefill's attention memory grows
   * with rows x prompt length squared, and the wasm backend's heap stops at 4 GiB.
   */
  readonly maxBatchTokens?: number
  /** Most sequences waiting for the sampler; more get 429 (default 1024). */
  readonly maxQueue?: number
  /** Largest request body in bytes; larger get 413 (default 1 MiB). */
  readonly maxBodyBytes?: number
  /**
   * Most new tokens one request may ask for: its sequences (prompts x n) times `max_tokens` (the
   * rest of the context when not given); more is a 400 that states the limit (default 65,536).
   */
  readonly maxRequestTokens?: number
  /** How long a request body may take to arrive, in ms; slower is a 408 and the connection is closed (default 10,000). */
  readonly bodyTimeoutMs?: number
  /**
   * Most requests being received or answered at once; more get 503 at once and their connection
   * is closed (default 256). `/health` is always answered.
   */
  readonly maxOpenRequests?: number
  /** Seed of the per-sequence seeds of requests that give none (default 0). */
  readonly seed?: number
  /**
   * Serve the weight-update endpoints (`/v1/load_lora_adapter`, `/v1/unload_lora_adapter`,
   * `/update_weights_from_disk`), which read files the server can see; without it they answer 403.
   */
  readonly allowWeightUpdates?: boolean
  /** Most LoRA adapters loaded at run time at once (default 8). */
  readonly maxAdapters?: number
  /** The server frees `model` when it is replaced or the server closes (default false: the caller does). */
  readonly ownsModel?: boolean
}

/** Counters of a running server. */
export interface ServerStats extends BatchQueueStats {
  /** HTTP requests answered, by status code. */
  readonly responses: Readonly<Record<string, number>>
  /** Times the weights were replaced (`/update_weights_from_disk`). */
  readonly reloads: number
  /** The LoRA adapters loaded at run time. */
  readonly adapters: ReadonlyArray<NamedAdapter>
}

/** A generation request with the run-time LoRA adapter it names (none: the base model). */
type ServedRequest = GenerationRequest & { readonly adapter?: string | undefined }

/** A running server. */
export interface ModelServer {
  /** `http://host:port` */
  readonly url: string
  /** `http://host:port/v1`, the base URL for OpenAI clients. */
  readonly baseUrl: string
  readonly hostname: string
  readonly port: number
  readonly modelName: string
  stats(): ServerStats
  /** Stops accepting requests (new ones get 503), finishes the queued ones, then closes. */
  close(): Promise<void>
}

const jsonHeaders = { "content-type": "application/json" }

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { ...jsonHeaders, ...headers } })

/**
 * An error as a response. The connection is closed when the request's body was not read whole
 * (refused early, too large, too slow), so that a client cannot keep sending into it.
 */
const errorResponse = (error: ApiError, request: Request): Response => {
  const unread = error.status === 408 || error.status === 413 || (request.body !== null && !request.bodyUsed)
  return json(error.status, error.body(), {
    ...(error.status === 429 || error.status === 503 ? { "retry-after": "1" } : {}),
    ...(unread ? { connection: "close" } : {}),
  })
}

const internalError = (cause: unknown): ApiError =>
  new ApiError({
    status: 500,
    message: `internal server error: ${cause instanceof Error ? cause.message : String(cause)}`,
    type: "server_error",
    param: null,
    code: null,
  })

const digest = (text: string): Buffer => createHash("sha256").update(text).digest()

/** A percent-encoded path segment, decoded; a malformed escape (`%ZZ`) is a 400. */
const decodedSegment = (segment: string): string => {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw invalidRequest(null, `the path segment "${segment}" holds a malformed percent-escape`, "invalid_url")
  }
}

/**
 * Reads a body of at most `limit` bytes that arrives within `timeoutMs` as JSON; 413 when larger,
 * 408 when slower, 400 when not UTF-8 JSON.
 */
const readJson = async (request: Request, limit: number, timeoutMs: number): Promise<unknown> => {
  const tooLarge = () =>
    new ApiError({ status: 413, message: `the request body exceeds ${limit} bytes`, type: "invalid_request_error", param: null, code: "request_too_large" })
  const declared = Number(request.headers.get("content-length") ?? Number.NaN)
  if (Number.isFinite(declared) && declared > limit) throw tooLarge()
  const chunks: Array<Uint8Array> = []
  let size = 0
  if (request.body !== null) {
    const reader = request.body.getReader()
    let late = false
    const deadline = setTimeout(() => {
      late = true
      void reader.cancel().catch(() => undefined)
    }, timeoutMs)
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (late) {
          throw new ApiError({ status: 408, message: `the request body did not arrive within ${timeoutMs} ms`, type: "invalid_request_error", param: null, code: "request_timeout" })
        }
        if (done) break
        size += value.byteLength
        if (size > limit) {
          await reader.cancel().catch(() => undefined)
          throw tooLarge()
        }
        chunks.push(value)
      }
    } finally {
      clearTimeout(deadline)
    }
  }
  const bytes = new Uint8Array(size)
  let at = 0
  for (const c of chunks) {
    bytes.set(c, at)
    at += c.byteLength
  }
  let text: string
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes)
  } catch {
    throw invalidRequest(null, "the request body is not valid UTF-8", "invalid_body")
  }
  if (text.trim() === "") throw invalidRequest(null, "the request body is empty; send a JSON object", "invalid_json")
  try {
    return JSON.parse(text) as unknown
  } catch (cause) {
    throw invalidRequest(null, `malformed JSON: ${cause instanceof Error ? cause.message : String(cause)}`, "invalid_json")
  }
}

/**
 * The text of each token as its own share of `text`: the shares concatenate to exactly `text`.
 * A token that ends inside a multi-byte character contributes nothing; the character goes to the
 * token that completes it. Tokens after a stop string contribute nothing.
 *
 * @example
 * textPieces(new ByteTokenizer(), [104, 0xc3, 0xa9], "hé") // ["h", "", "é"]
 */
export const textPieces = (tokenizer: Tokenizer, tokenIds: ReadonlyArray<number>, text: string): Array<string> => {
  const pieces: Array<string> = []
  let done = 0
  let from = 0
  for (let t = 0; t < tokenIds.length; t++) {
    let end = done
    if (t === tokenIds.length - 1) end = text.length
    else {
      const run = tokenizer.decode(tokenIds.slice(from, t + 1))
      if (!run.endsWith("\uFFFD")) {
        end = Math.min(done + run.length, text.length)
        from = t + 1
      }
    }
    pieces.push(text.slice(done, end))
    done = end
  }
  return pieces
}

/** Names the special tokens of a tokenizer. */
const specialName = (tokenizer: Tokenizer, id: number): string | undefined =>
  id === tokenizer.eosId ? "<|eos|>" : id === tokenizer.bosId ? "<|bos|>" : id === tokenizer.padId ? "<|pad|>" : undefined

/**
 * How a token is written in `logprobs`: `token_id:N` when the client asked for ids, the special
 * token's name, its text, or `bytes:\xNN` for a byte that is not a whole character.
 */
const tokenLabel = (tokenizer: Tokenizer, id: number, asId: boolean): string => {
  if (asId) return `token_id:${id}`
  const special = specialName(tokenizer, id)
  if (special !== undefined) return special
  const text = tokenizer.decode([id])
  if (!text.includes("\uFFFD")) return text
  return `bytes:${tokenBytes(tokenizer, id).map((b) => `\\x${b.toString(16).padStart(2, "0")}`).join("")}`
}

const utf8 = new TextEncoder()

/** The UTF-8 bytes of a token (empty for special tokens). */
const tokenBytes = (tokenizer: Tokenizer, id: number): Array<number> => {
  if (specialName(tokenizer, id) !== undefined) return []
  if (tokenizer instanceof ByteTokenizer) return [id]
  return Array.from(utf8.encode(tokenizer.decode([id])))
}

/** Per-choice results: the completion and the text share of each token. */
interface Choice {
  readonly completion: Completion
  readonly pieces: ReadonlyArray<string>
  /** Where each token's share starts in the text. */
  readonly offsets: ReadonlyArray<number>
}

const finishOf = (c: Completion): "stop" | "length" => c.finishReason

/** A completion with the text share of each token (only streaming and log-probs need them). */
const choiceOf = (tokenizer: Tokenizer, completion: Completion): Choice => {
  const pieces = textPieces(tokenizer, completion.tokenIds, completion.text)
  const offsets: Array<number> = []
  let at = 0
  for (const piece of pieces) {
    offsets.push(at)
    at += piece.length
  }
  return { completion, pieces, offsets }
}

/** Resolves after the event loop has run once more. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** `items.map(f)`, giving the event loop a turn every 64 items (a response of thousands of choices). */
const mapInTurns = async <A, B>(items: ReadonlyArray<A>, f: (item: A, index: number) => B): Promise<Array<B>> => {
  const out: Array<B> = []
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % 64 === 0) await nextTurn()
    out.push(f(items[i] as A, i))
  }
  return out
}

const completionLogprobs = (tokenizer: Tokenizer, params: SamplingParams, choice: Choice, from = 0, to = choice.pieces.length) => {
  const labels = choice.completion.tokenIds.slice(from, to).map((id) => tokenLabel(tokenizer, id, params.tokenIdsAsTokens))
  const lps = choice.completion.logprobs.slice(from, to)
  return {
    tokens: labels,
    token_logprobs: lps,
    top_logprobs: params.topLogprobs > 0 ? labels.map((label, i) => ({ [label]: lps[i] })) : null,
    text_offset: choice.offsets.slice(from, to),
  }
}

const chatLogprobs = (tokenizer: Tokenizer, params: SamplingParams, choice: Choice, from = 0, to = choice.pieces.length) => {
  const content = []
  for (let t = from; t < to; t++) {
    const id = choice.completion.tokenIds[t] as number
    const entry = { token: tokenLabel(tokenizer, id, params.tokenIdsAsTokens), logprob: choice.completion.logprobs[t] as number, bytes: tokenBytes(tokenizer, id) }
    content.push({ ...entry, top_logprobs: params.topLogprobs > 0 ? [entry] : [] })
  }
  return { content }
}

const sseHeaders = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" }

/** A server-sent-events response of the given JSON events, made as the client reads them, then `data: [DONE]`. */
const sse = (events: Iterable<unknown>): Response => {
  const next = events[Symbol.iterator]()
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const event = next.next()
      if (event.done !== true) controller.enqueue(utf8.encode(`data: ${JSON.stringify(event.value)}\n\n`))
      else {
        controller.enqueue(utf8.encode("data: [DONE]\n\n"))
        controller.close()
      }
    },
  })
  return new Response(stream, { status: 200, headers: sseHeaders })
}

/**
 * Samples requests in calls of at most `maxRows` rows and `maxTokens` padded prompt tokens
 * (rows x longest prompt, at least one row per call), one adapter at a time, grouping prompts
 * of similar length; completions come back in request order. Call it inside `served.exclusive`.
 */
const sampleInChunks = async (
  served: ServedModel,
  tokenizer: Tokenizer,
  requests: ReadonlyArray<ServedRequest>,
  maxRows: number,
  maxTokens: number,
): Promise<Array<Completion>> => {
  const limit = served.model.config.maxSeqLen - 1
  const lengths = requests.map((r) => Math.min(encodePrompt(tokenizer, r.prompt).length, limit))
  const out: Array<Completion | undefined> = new Array(requests.length)
  for (const adapter of new Set(requests.map((r) => r.adapter))) {
    const order = requests
      .flatMap((r, i) => (r.adapter === adapter ? [i] : []))
      .sort((a, b) => (lengths[a] as number) - (lengths[b] as number) || a - b)
    const chunks: Array<Array<number>> = [[]]
    for (const i of order) {
      const chunk = chunks[chunks.length - 1] as Array<number>
      // Sorted by length, so this request is the longest of its chunk.
      if (chunk.length > 0 && (chunk.length >= maxRows || (chunk.length + 1) * (lengths[i] as number) > maxTokens)) chunks.push([i])
      else chunk.push(i)
    }
    await served.withAdapter(adapter, async (model) => {
      for (const chunk of chunks) {
        const completions = await generateInTurns(model, tokenizer, chunk.map((i) => requests[i] as GenerationRequest), { maxBatchSize: maxRows })
        chunk.forEach((i, k) => (out[i] = completions[k]))
      }
    })
  }
  return out as Array<Completion>
}

/** A JSON body's string field, or a 400 naming it. */
const stringField = (body: unknown, name: string): string => {
  const value = typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>)[name] : undefined
  if (typeof value !== "string" || value === "") throw invalidRequest(name, `${name} must be a non-empty string`)
  return value
}

/**
 * Serves a model over an OpenAI-compatible HTTP API with `Bun.serve`:
 *
 * - `GET /v1/models`, `GET /v1/models/{id}`; `GET /health` (no token needed).
 * - `POST /v1/completions`: `prompt` (string or array of strings), `max_tokens` (default 16),
 *   `temperature` (default 1; 0 is greedy), `top_p`, `stop`, `seed`, `n`, `logprobs`,
 *   `stream` (+ `stream_options.include_usage`), `return_tokens_as_token_ids`.
 * - `POST /v1/chat/completions`: `messages` rendered with {@link renderChat}, the same sampling
 *   fields, `logprobs` / `top_logprobs`, `max_tokens` or `max_completion_tokens` (default: the
 *   rest of the context).
 *
 * Requests waiting at the same time are sampled as one batch (see {@link BatchQueue}), in
 * sampler calls of at most `maxBatchSize` rows and `maxBatchTokens` padded prompt tokens. Sequence
 * k (= prompt index x n + choice index) of a request with `seed` s uses seed s for k = 0 and
 * `mixSeed(s, k)` otherwise, so a one-sequence request reproduces the local sampler exactly;
 * requests without a seed get seeds from the server's `seed` and a counter. `logprobs` are the
 * sampled tokens' log-probs under the distribution they were drawn from (the request's
 * temperature and top-p; temperature 1 for greedy requests), for every
 * sampled token including the end-of-sequence token or the tokens of a matched stop string
 * (the text excludes those); `top_logprobs` hold only the sampled token (alternatives are not
 * computed). Long prompts lose their start as in the local sampler (`usage.prompt_tokens`
 * counts what was kept) and `max_tokens` is capped by the context. Streaming sends the same
 * tokens as server-sent events once the batch is sampled (one event per token per choice).
 *
 * Sampling gives the event loop a turn after every decoder step ({@link generateInTurns}), so
 * `/health` and new requests are answered while a large batch samples. The work one request may
 * ask for is capped (`maxRequestTokens`), a body must arrive within `bodyTimeoutMs`, at most
 * `maxOpenRequests` requests are received or answered at once, and a connection idle for 10 s
 * is closed (not while its request waits for the sampler).
 *
 * Errors are OpenAI-style objects `{ error: { message, type, param, code } }`: 400 malformed
 * JSON or URL, wrong types, missing or unsupported fields, more work than `maxRequestTokens`;
 * 401 a missing or wrong bearer token; 404 unknown route or model; 405 wrong method; 408 a body
 * slower than `bodyTimeoutMs`; 413 body over `maxBodyBytes`; 429 queue full; 500 a sampler
 * failure; 503 while closing or over `maxOpenRequests`.
 *
 * @example
 * const server = startServer({ model, tokenizer: new ByteTokenizer(), modelName: "tiny", port: 0 })
 * const response = await fetch(`${server.baseUrl}/completions`, { method: "POST", body: JSON.stringify({ prompt: "2+2=", max_tokens: 4 }) })
 * await server.close()
 */
export const startServer = (options: ServerOptions): ModelServer => {
  const { model, modelName } = options
  const served = new ServedModel(model, { owned: options.ownsModel === true, maxAdapters: Math.max(1, Math.floor(options.maxAdapters ?? 8)) })
  const template = options.tokenizer.chatTemplate
  // Completions continue the prompt's text as given; chat messages go through the model's chat template.
  const tokenizer = withoutChatTemplate(options.tokenizer)
  const maxBodyBytes = Math.max(1, Math.floor(options.maxBodyBytes ?? 1 << 20))
  const maxRequestTokens = Math.max(1, Math.floor(options.maxRequestTokens ?? 65_536))
  const bodyTimeoutMs = Math.max(1, options.bodyTimeoutMs ?? 10_000)
  const maxOpenRequests = Math.max(1, Math.floor(options.maxOpenRequests ?? 256))
  const maxSeqLen = model.config.maxSeqLen
  const maxBatchTokens = Math.max(1, Math.floor(options.maxBatchTokens ?? 8192))
  const queue = new BatchQueue(
    (requests: ReadonlyArray<ServedRequest>) => served.exclusive(() => sampleInChunks(served, tokenizer, requests, options.maxBatchSize ?? 64, maxBatchTokens)),
    {
      ...(options.maxBatchSize === undefined ? {} : { maxBatchSize: options.maxBatchSize }),
      ...(options.batchWindowMs === undefined ? {} : { batchWindowMs: options.batchWindowMs }),
      ...(options.maxQueue === undefined ? {} : { maxQueue: options.maxQueue }),
    },
  )
  const limits = { ...defaultRequestLimits, maxSequences: queue.maxQueue }
  const keyDigest = options.apiKey === undefined ? undefined : digest(`Bearer ${options.apiKey}`)
  const serverSeed = options.seed ?? 0
  const responses: Record<string, number> = {}
  let unseeded = 0
  let ids = 0
  let closing = false
  const created = Math.floor(Date.now() / 1000)

  const modelCard = () => ({ id: modelName, object: "model", created, owned_by: "icrl", root: modelName, parent: null, max_model_len: maxSeqLen })
  const adapterCards = () => served.adapters().map((a) => ({ id: a.name, object: "model", created, owned_by: "icrl", root: a.path, parent: modelName, max_model_len: maxSeqLen }))

  const authorized = (request: Request): boolean => {
    if (keyDigest === undefined) return true
    return timingSafeEqual(digest(request.headers.get("authorization") ?? ""), keyDigest)
  }

  /** The run-time adapter a request names (undefined: the base model); a 404 for any other name. */
  const adapterOf = (params: SamplingParams): string | undefined => {
    if (params.model === undefined || params.model === modelName) return undefined
    if (served.has(params.model)) return params.model
    const loaded = served.adapters().map((a) => `\`${a.name}\``)
    throw new ApiError({
      status: 404,
      message: `The model \`${params.model}\` does not exist; this server serves \`${modelName}\`${loaded.length === 0 ? "" : ` and the adapters ${loaded.join(", ")}`}`,
      type: "invalid_request_error",
      param: "model",
      code: "model_not_found",
    })
  }

  /** Generation requests for prompts x n, seeded as documented; a 400 when they ask for more than `maxRequestTokens`. */
  const requestsFor = (prompts: ReadonlyArray<string>, params: SamplingParams, extraStops: ReadonlyArray<string>): Array<ServedRequest> => {
    const maxTokens = Math.min(params.maxTokens ?? maxSeqLen, maxSeqLen)
    const sequences = prompts.length * params.n
    if (sequences * maxTokens > maxRequestTokens) {
      throw invalidRequest(
        "max_tokens",
        `the request asks for up to ${sequences * maxTokens} new tokens (${sequences} sequences x ${maxTokens} max_tokens); ` +
          `this server allows at most ${maxRequestTokens} per request: ask for fewer prompts, a smaller n or max_tokens`,
        "request_too_large",
      )
    }
    const stop = [...new Set([...params.stop, ...extraStops])]
    const adapter = adapterOf(params)
    const out: Array<ServedRequest> = []
    prompts.forEach((prompt) => {
      for (let j = 0; j < params.n; j++) {
        const k = out.length
        const seed = params.seed === undefined ? mixSeed(serverSeed, unseeded++) : k === 0 ? params.seed : mixSeed(params.seed, k)
        out.push({ prompt, maxTokens, temperature: params.temperature, topP: params.topP, stop, seed, adapter })
      }
    })
    return out
  }

  const sample = async (requests: ReadonlyArray<ServedRequest>, request: Request): Promise<ReadonlyArray<Completion>> => {
    // A request may wait for the sampler longer than a connection may stay idle.
    server.timeout(request, 0)
    try {
      return await queue.submit(requests, request.signal)
    } catch (error) {
      throw error instanceof ApiError ? error : internalError(error)
    }
  }

  const usageOf = (completions: ReadonlyArray<Completion>, n: number) => {
    let prompt = 0
    let completion = 0
    completions.forEach((c, k) => {
      if (k % n === 0) prompt += c.promptTokens
      completion += c.tokenIds.length
    })
    return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
  }

  const completions = async (request: Request): Promise<Response> => {
    const params = parseCompletionRequest(await readJson(request, maxBodyBytes, bodyTimeoutMs), limits)
    const sampled = await sample(requestsFor(params.prompts, params, []), request)
    const id = `cmpl-${(ids++).toString(36)}`
    const now = Math.floor(Date.now() / 1000)
    const head = { id, object: "text_completion", created: now, model: modelName }
    if (!params.stream) {
      return json(200, {
        ...head,
        choices: await mapInTurns(sampled, (c, index) => ({
          index,
          text: c.text,
          logprobs: params.logprobs ? completionLogprobs(tokenizer, params, choiceOf(tokenizer, c)) : null,
          finish_reason: finishOf(c),
        })),
        usage: usageOf(sampled, params.n),
      })
    }
    return sse(
      (function* () {
        for (const [index, completion] of sampled.entries()) {
          const c = choiceOf(tokenizer, completion)
          for (const [t, piece] of c.pieces.entries()) {
            yield { ...head, choices: [{ index, text: piece, logprobs: params.logprobs ? completionLogprobs(tokenizer, params, c, t, t + 1) : null, finish_reason: null }] }
          }
          yield { ...head, choices: [{ index, text: "", logprobs: null, finish_reason: finishOf(completion) }] }
        }
        if (params.includeUsage) yield { ...head, choices: [], usage: usageOf(sampled, params.n) }
      })(),
    )
  }

  const chat = async (request: Request): Promise<Response> => {
    const params = parseChatRequest(await readJson(request, maxBodyBytes, bodyTimeoutMs), limits)
    const prompt = template === undefined ? renderChat(params.messages) : template.render(params.messages, { addGenerationPrompt: true })
    const sampled = await sample(requestsFor([prompt], params, template === undefined ? chatStops : []), request)
    const id = `chatcmpl-${(ids++).toString(36)}`
    const now = Math.floor(Date.now() / 1000)
    if (!params.stream) {
      return json(200, {
        id,
        object: "chat.completion",
        created: now,
        model: modelName,
        choices: await mapInTurns(sampled, (c, index) => ({
          index,
          message: { role: "assistant", content: c.text },
          logprobs: params.logprobs ? chatLogprobs(tokenizer, params, choiceOf(tokenizer, c)) : null,
          finish_reason: finishOf(c),
        })),
        usage: usageOf(sampled, params.n),
      })
    }
    const head = { id, object: "chat.completion.chunk", created: now, model: modelName }
    return sse(
      (function* () {
        for (const [index, completion] of sampled.entries()) {
          const c = choiceOf(tokenizer, completion)
          yield { ...head, choices: [{ index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }] }
          for (const [t, piece] of c.pieces.entries()) {
            yield { ...head, choices: [{ index, delta: { content: piece }, logprobs: params.logprobs ? chatLogprobs(tokenizer, params, c, t, t + 1) : null, finish_reason: null }] }
          }
          yield { ...head, choices: [{ index, delta: {}, logprobs: null, finish_reason: finishOf(completion) }] }
        }
        if (params.includeUsage) yield { ...head, choices: [], usage: usageOf(sampled, 1) }
      })(),
    )
  }

  /** The body of a weight-update request, or a 403 when this server does not take weight updates. */
  const weightUpdate = async (request: Request): Promise<unknown> => {
    if (options.allowWeightUpdates !== true) {
      throw new ApiError({ status: 403, message: "weight updates are disabled on this server; start serve with --allow-weight-updates", type: "invalid_request_error", param: null, code: "weight_updates_disabled" })
    }
    return readJson(request, maxBodyBytes, bodyTimeoutMs)
  }

  const loadAdapter = async (request: Request): Promise<Response> => {
    const body = await weightUpdate(request)
    const name = stringField(body, "lora_name")
    if (name === modelName) throw invalidRequest("lora_name", `lora_name must differ from the served model's name \`${modelName}\``)
    await served.loadAdapter(name, stringField(body, "lora_path"))
    return json(200, { status: "ok", message: `Success: LoRA adapter '${name}' added successfully.` })
  }

  const unloadAdapter = async (request: Request): Promise<Response> => {
    const name = stringField(await weightUpdate(request), "lora_name")
    await served.unloadAdapter(name)
    return json(200, { status: "ok", message: `Success: LoRA adapter '${name}' removed successfully.` })
  }

  const reloadWeights = async (request: Request): Promise<Response> => {
    const path = stringField(await weightUpdate(request), "model_path")
    await served.reload(path)
    return json(200, { success: true, message: `weights replaced with ${path}` })
  }

  const routes: Record<string, Partial<Record<string, (request: Request) => Promise<Response> | Response>>> = {
    "/v1/models": { GET: () => json(200, { object: "list", data: [modelCard(), ...adapterCards()] }) },
    "/v1/completions": { POST: completions },
    "/v1/chat/completions": { POST: chat },
    "/v1/load_lora_adapter": { POST: loadAdapter },
    "/v1/unload_lora_adapter": { POST: unloadAdapter },
    "/update_weights_from_disk": { POST: reloadWeights },
  }

  const handle = async (request: Request): Promise<Response> => {
    const path = new URL(request.url).pathname.replace(/\/+$/, "") || "/"
    if (path === "/health") return json(200, { status: closing ? "closing" : "ok" })
    if (closing) throw new ApiError({ status: 503, message: "the server is shutting down", type: "server_error", param: null, code: "shutting_down" })
    if (!path.startsWith("/v1/") && routes[path] === undefined) throw new ApiError({ status: 404, message: `no route ${path}`, type: "invalid_request_error", param: null, code: "not_found" })
    if (!authorized(request)) {
      throw new ApiError({ status: 401, message: "Incorrect or missing API key; send Authorization: Bearer <key>", type: "invalid_request_error", param: null, code: "invalid_api_key" })
    }
    if (path.startsWith("/v1/models/") && request.method === "GET") {
      const name = decodedSegment(path.slice("/v1/models/".length))
      if (name === modelName) return json(200, modelCard())
      const card = adapterCards().find((c) => c.id === name)
      if (card !== undefined) return json(200, card)
      throw new ApiError({ status: 404, message: `The model \`${name}\` does not exist`, type: "invalid_request_error", param: "model", code: "model_not_found" })
    }
    const route = routes[path]
    if (route === undefined) throw new ApiError({ status: 404, message: `no route ${path}`, type: "invalid_request_error", param: null, code: "not_found" })
    const handler = route[request.method]
    if (handler === undefined) {
      throw new ApiError({ status: 405, message: `${request.method} is not allowed on ${path}; use ${Object.keys(route).join(", ")}`, type: "invalid_request_error", param: null, code: "method_not_allowed" })
    }
    return handler(request)
  }

  const server = Bun.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 8000,
    // Bun's own limit answers 413 without a body; ours answers first with an error object.
    maxRequestBodySize: Math.max(maxBodyBytes * 4, maxBodyBytes + (1 << 20)),
    // Connections idle this long are closed; a request waiting for the sampler is exempt (see sample).
    idleTimeout: 10,
    async fetch(request, self) {
      let response: Response
      try {
        if (self.pendingRequests > maxOpenRequests && new URL(request.url).pathname !== "/health") {
          throw new ApiError({ status: 503, message: `the server is answering ${maxOpenRequests} requests; retry later`, type: "server_error", param: null, code: "server_busy" })
        }
        response = await handle(request)
      } catch (error) {
        response = errorResponse(error instanceof ApiError ? error : internalError(error), request)
      }
      responses[response.status] = (responses[response.status] ?? 0) + 1
      return response
    },
    error(error) {
      return json(500, internalError(error).body())
    },
  })
  const hostname = server.hostname ?? options.hostname ?? "127.0.0.1"
  const port = server.port ?? 0
  const host = hostname.includes(":") ? `[${hostname}]` : hostname
  const url = `http://${host}:${port}`
  let closed: Promise<void> | undefined
  return {
    url,
    baseUrl: `${url}/v1`,
    hostname,
    port,
    modelName,
    stats: () => ({ ...queue.stats(), responses: { ...responses }, reloads: served.reloads, adapters: served.adapters() }),
    close: () => {
      closed ??= (async () => {
        closing = true
        // Stops listening; resolves once every request in flight (queued ones included) is answered.
        await Promise.all([server.stop(false), queue.drained()])
        await served.dispose()
      })()
      return closed
    },
  }
}

/** Options of {@link serveCheckpoint}: those of {@link startServer} without the model, and a LoRA adapter folder. */
export type ServeCheckpointOptions = Omit<ServerOptions, "model" | "tokenizer" | "modelName"> & {
  readonly modelName?: string
  /** A PEFT LoRA adapter folder to apply on top. */
  readonly adapter?: string
}

/**
 * Loads a checkpoint or a Hugging Face model folder (see `loadLocalModel`) with its tokenizer
 * and serves it; chat requests go through the model's chat template when it has one. The
 * model's name defaults to the directory's name. Closing the server also frees the model.
 *
 * @example
 * const server = await serveCheckpoint("runs/a/checkpoints/latest", { port: 8000 })
 * console.log(`serving ${server.modelName} at ${server.baseUrl}`)
 */
export const serveCheckpoint = async (dir: string, options: ServeCheckpointOptions = {}): Promise<ModelServer> => {
  const { model, tokenizer } = await loadLocalModel(dir, options.adapter === undefined ? {} : { adapter: options.adapter })
  try {
    return startServer({ ...options, model, tokenizer, modelName: options.modelName ?? basename(resolve(dir)), ownsModel: true })
  } catch (error) {
    model.dispose()
    throw error
  }
}

/**
 * Serves a fresh `preset` model (byte tokenizer, weights drawn from `seed`), named after the
 * preset: an engine for a trainer that replaces its weights before sampling
 * (`allowWeightUpdates`, `/update_weights_from_disk`). Closing the server frees the model.
 *
 * @example
 * const server = servePreset("small", { port: 8001, allowWeightUpdates: true })
 */
export const servePreset = (preset: PresetName, options: ServeCheckpointOptions & { readonly modelSeed?: number } = {}): ModelServer => {
  const { modelSeed, ...rest } = options
  const tokenizer = new ByteTokenizer()
  const model = new TransformerModel(modelConfig(preset, tokenizer.vocabSize), modelSeed ?? 0)
  try {
    return startServer({ ...rest, model, tokenizer, modelName: options.modelName ?? preset, ownsModel: true })
  } catch (error) {
    model.dispose()
    throw error
  }
}
