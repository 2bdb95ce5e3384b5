/**
 * `serve --checkpoint DIR` or `serve --model DIR`: serves a checkpoint or a Hugging Face model
 * over an OpenAI-compatible HTTP API until SIGTERM or SIGINT, then finishes the queued requests
 * and exits 0.
 */
import { presetNames, selectBackend, serveCheckpoint, servePreset } from "@icrl/trainer"
import { Console, Effect, Option, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { apiKeyFlags, apiKeyOf } from "../apiKeyFlags.ts"
import { defaulted, FlagError, optional, PositiveCount, toggle } from "../flags.ts"
import { adapterFlag, backendFlag, modelFlag, threadsFlag, withModelFlags } from "../modelFlags.ts"

const Port = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65535 }))
const NonNegativeNumber = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))

const loopback = (host: string): boolean => host === "localhost" || host === "::1" || host.startsWith("127.")

/** Waits for SIGTERM or SIGINT and says which arrived. */
const stopSignal = (): Promise<NodeJS.Signals> =>
  new Promise((resolve) => {
    const handlers: Array<[NodeJS.Signals, () => void]> = []
    for (const name of ["SIGTERM", "SIGINT"] as const) {
      const handler = () => {
        for (const [n, h] of handlers) process.off(n, h)
        resolve(name)
      }
      handlers.push([name, handler])
      process.once(name, handler)
    }
  })

/**
 * `bun run serve (--checkpoint DIR | --model DIR [--adapter DIR] | --preset NAME) [--host 127.0.0.1]
 * [--port 8000] [--api-key-file FILE] [--allow-weight-updates]`.
 */
export const command = Command.make(
  "serve",
  {
    checkpoint: optional(Flag.String("checkpoint"), "checkpoint directory to serve (or --model)"),
    model: modelFlag,
    adapter: adapterFlag,
    preset: optional(Flag.Literals("preset", presetNames), "serve a fresh model of this size (byte tokenizer) whose weights a trainer replaces (with --allow-weight-updates)"),
    allowWeightUpdates: toggle(
      "allow-weight-updates",
      "serve /v1/load_lora_adapter, /v1/unload_lora_adapter and /update_weights_from_disk (they read files this server can see)",
    ),
    maxAdapters: defaulted(Flag.Int("max-adapters").pipe(Flag.withSchema(PositiveCount)), 8, "most LoRA adapters loaded at run time at once"),
    host: defaulted(Flag.String("host"), "127.0.0.1", "interface to listen on (loopback by default)"),
    port: defaulted(Flag.Int("port").pipe(Flag.withSchema(Port)), 8000, "port (0 picks a free one)"),
    ...apiKeyFlags("", "the key every /v1 request must carry (Authorization: Bearer KEY)"),
    modelName: optional(Flag.String("model-name"), "model id in /v1/models (default: the checkpoint directory's name)"),
    maxBatchSize: defaulted(Flag.Int("max-batch-size").pipe(Flag.withSchema(PositiveCount)), 64, "most sequences per sampler batch"),
    maxBatchTokens: defaulted(Flag.Int("max-batch-tokens").pipe(Flag.withSchema(PositiveCount)), 8192, "most padded prompt tokens (rows x longest prompt) per sampler call"),
    batchWindowMs: defaulted(Flag.Finite("batch-window-ms").pipe(Flag.withSchema(NonNegativeNumber)), 5, "how long a request waits for others to join its batch"),
    maxQueue: defaulted(Flag.Int("max-queue").pipe(Flag.withSchema(PositiveCount)), 1024, "most waiting sequences before 429"),
    maxBodyBytes: defaulted(Flag.Int("max-body-bytes").pipe(Flag.withSchema(PositiveCount)), 1048576, "largest request body before 413"),
    maxRequestTokens: defaulted(Flag.Int("max-request-tokens").pipe(Flag.withSchema(PositiveCount)), 65536, "most new tokens one request may ask for (sequences x max_tokens) before 400"),
    bodyTimeoutMs: defaulted(Flag.Int("body-timeout-ms").pipe(Flag.withSchema(PositiveCount)), 10000, "how long a request body may take to arrive before 408"),
    maxOpenRequests: defaulted(Flag.Int("max-open-requests").pipe(Flag.withSchema(PositiveCount)), 256, "most requests received or answered at once before 503"),
    seed: defaulted(Flag.Int("seed"), 0, "seed for requests that give none"),
    backend: backendFlag,
    threads: threadsFlag,
  },
  (values) =>
    Effect.gen(function* () {
      const bad = (flag: string, detail: string) => new FlagError({ flag, detail })
      const given = [values.checkpoint, values.model, values.preset].filter(Option.isSome).length
      if (given === 0) return yield* bad("checkpoint", "is required (or --model, or --preset)")
      if (given > 1) return yield* bad(Option.isSome(values.preset) ? "preset" : "model", "give one of --checkpoint, --model and --preset")
      const adapter = Option.getOrUndefined(values.adapter)
      if (Option.isSome(values.preset) && adapter !== undefined) return yield* bad("adapter", "needs --model or --checkpoint")
      const apiKey = yield* apiKeyOf(values, "")
      if (Option.isSome(values.apiKey)) yield* Console.error("warning: --api-key is visible to other users in the process list; --api-key-env or --api-key-file keep it out")
      const backend = yield* Effect.promise(() => selectBackend(values.backend, { threads: values.threads }))
      yield* Console.error(`backend: ${backend.description}`)
      const modelName = Option.getOrUndefined(values.modelName)
      const options = {
        hostname: values.host,
        port: values.port,
        ...(apiKey === undefined ? {} : { apiKey }),
        ...(modelName === undefined ? {} : { modelName }),
        maxBatchSize: values.maxBatchSize,
        maxBatchTokens: values.maxBatchTokens,
        batchWindowMs: values.batchWindowMs,
        maxQueue: values.maxQueue,
        maxBodyBytes: values.maxBodyBytes,
        maxRequestTokens: values.maxRequestTokens,
        bodyTimeoutMs: values.bodyTimeoutMs,
        maxOpenRequests: values.maxOpenRequests,
        seed: values.seed,
        allowWeightUpdates: values.allowWeightUpdates,
        maxAdapters: values.maxAdapters,
      }
      const flag = Option.isSome(values.model) ? "model" : "checkpoint"
      const server = Option.isSome(values.preset)
        ? servePreset(values.preset.value, options)
        : yield* withModelFlags(flag, adapter, () =>
            serveCheckpoint(Option.getOrThrow(Option.orElse(values.model, () => values.checkpoint)), { ...options, ...(adapter === undefined ? {} : { adapter }) }),
          )
      if (!loopback(values.host) && apiKey === undefined) {
        yield* Console.error(`warning: listening on ${values.host} without --api-key; anyone who can reach it can use the model`)
      }
      yield* Console.error(`serving model "${server.modelName}" at ${server.baseUrl} (auth: ${apiKey === undefined ? "none" : "bearer token"}${values.allowWeightUpdates ? "; weight updates allowed" : ""}); SIGTERM or Ctrl-C stops`)
      const signal = yield* Effect.promise(stopSignal)
      yield* Console.error(`${signal}: finishing queued requests and shutting down`)
      yield* Effect.promise(() => server.close())
      const stats = server.stats()
      yield* Console.error(`served ${stats.sequences} sequences in ${stats.batches} batches`)
    }),
).pipe(Command.withDescription("Serve a checkpoint or a Hugging Face model over an OpenAI-compatible HTTP API"))
