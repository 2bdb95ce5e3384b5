import type { Completion, GenerationRequest } from "@icrl/core"
import { ApiError } from "./serverProtocol.ts"

/** How the queue groups requests into sampler batches. */
export interface BatchQueueOptions {
  /** Most sequences in one sampler call (default 64). */
  readonly maxBatchSize?: number
  /** How long the first waiting request waits for others to join its batch, in ms (default 5). */
  readonly batchWindowMs?: number
  /** Most sequences waiting; more are refused with 429 (default 1024). */
  readonly maxQueue?: number
}

/** Counters of a queue. */
export interface BatchQueueStats {
  /** Sampler calls made. */
  readonly batches: number
  /** Sequences sampled. */
  readonly sequences: number
  /** The largest batch so far, in sequences. */
  readonly largestBatch: number
  /** Sequences waiting now. */
  readonly waiting: number
  /** Submissions refused because the queue was full. */
  readonly refused: number
}

interface Entry<R extends GenerationRequest> {
  readonly requests: ReadonlyArray<R>
  readonly signal: AbortSignal | undefined
  readonly resolve: (completions: ReadonlyArray<Completion>) => void
  readonly reject: (error: unknown) => void
}

/**
 * Collects generation requests from concurrent HTTP requests and runs them as one sampler
 * batch: the first waiting submission starts a window of `batchWindowMs`; when it ends (or as
 * soon as `maxBatchSize` sequences wait) the oldest submissions, whole, up to `maxBatchSize`
 * sequences (at least one submission), go to one `run` call. One call runs at a time; `run` may
 * be asynchronous (a sampler that yields to the event loop), and submissions made meanwhile
 * wait for the next call. Submissions whose signal has aborted are dropped before they run.
 * More than `maxQueue` waiting sequences is a 429 {@link ApiError}.
 *
 * @example
 * const queue = new BatchQueue((requests) => generate(model, tok, requests), { maxBatchSize: 64 })
 * const [c] = await queue.submit([{ prompt: "2+2=", maxTokens: 4, temperature: 0 }])
 */
export class BatchQueue<R extends GenerationRequest = GenerationRequest> {
  readonly maxBatchSize: number
  readonly batchWindowMs: number
  readonly maxQueue: number
  readonly #run: (requests: ReadonlyArray<R>) => Promise<ReadonlyArray<Completion>> | ReadonlyArray<Completion>
  readonly #entries: Array<Entry<R>> = []
  #waiting = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  #running = false
  #batches = 0
  #sequences = 0
  #largest = 0
  #refused = 0
  #idle: Array<() => void> = []

  constructor(run: (requests: ReadonlyArray<R>) => Promise<ReadonlyArray<Completion>> | ReadonlyArray<Completion>, options: BatchQueueOptions = {}) {
    this.#run = run
    this.maxBatchSize = Math.max(1, Math.floor(options.maxBatchSize ?? 64))
    this.batchWindowMs = Math.max(0, options.batchWindowMs ?? 5)
    this.maxQueue = Math.max(1, Math.floor(options.maxQueue ?? 1024))
  }

  /** Counters so far. */
  stats(): BatchQueueStats {
    return { batches: this.#batches, sequences: this.#sequences, largestBatch: this.#largest, waiting: this.#waiting, refused: this.#refused }
  }

  /**
   * Queues requests; resolves with their completions in order. Rejects with a 429 ApiError when
   * the queue is full, and with whatever `run` throws.
   */
  submit(requests: ReadonlyArray<R>, signal?: AbortSignal): Promise<ReadonlyArray<Completion>> {
    if (requests.length === 0) return Promise.resolve([])
    if (this.#waiting + requests.length > this.maxQueue) {
      this.#refused += 1
      return Promise.reject(
        new ApiError({
          status: 429,
          message: `the server queue is full (${this.#waiting} of ${this.maxQueue} sequences waiting); retry later`,
          type: "rate_limit_error",
          param: null,
          code: "queue_full",
        }),
      )
    }
    return new Promise((resolve, reject) => {
      this.#entries.push({ requests, signal, resolve, reject })
      this.#waiting += requests.length
      this.#schedule()
    })
  }

  /** Resolves when nothing is waiting or running. */
  drained(): Promise<void> {
    if (this.#entries.length === 0 && !this.#running) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  #schedule(): void {
    // A running call schedules the next one when it ends.
    if (this.#running) return
    if (this.#timer !== undefined) {
      if (this.#waiting < this.maxBatchSize) return
      clearTimeout(this.#timer)
    }
    const delay = this.#waiting >= this.maxBatchSize ? 0 : this.batchWindowMs
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      void this.#runBatch()
    }, delay)
  }

  async #runBatch(): Promise<void> {
    const batch: Array<Entry<R>> = []
    let size = 0
    while (this.#entries.length > 0) {
      const next = this.#entries[0] as Entry<R>
      if (next.signal?.aborted === true) {
        this.#entries.shift()
        this.#waiting -= next.requests.length
        next.reject(new ApiError({ status: 499, message: "the client closed the request", type: "invalid_request_error", param: null, code: "client_closed" }))
        continue
      }
      if (batch.length > 0 && size + next.requests.length > this.maxBatchSize) break
      this.#entries.shift()
      this.#waiting -= next.requests.length
      batch.push(next)
      size += next.requests.length
    }
    if (batch.length > 0) {
      this.#running = true
      try {
        const completions = await this.#run(batch.flatMap((e) => e.requests))
        this.#batches += 1
        this.#sequences += size
        this.#largest = Math.max(this.#largest, size)
        let at = 0
        for (const entry of batch) {
          entry.resolve(completions.slice(at, at + entry.requests.length))
          at += entry.requests.length
        }
      } catch (error) {
        for (const entry of batch) entry.reject(error)
      } finally {
        this.#running = false
      }
    }
    if (this.#entries.length > 0) this.#schedule()
    else for (const resolve of this.#idle.splice(0)) resolve()
  }
}
