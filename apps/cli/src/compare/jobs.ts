/** A unit of work that may wait for others. */
export interface Job<R> {
  readonly id: string
  readonly dependsOn: ReadonlyArray<string>
  readonly run: () => Promise<R>
}

/** How a job ended: its value, its error, or never started because a job it waits for did not succeed. */
export type JobOutcome<R> =
  | { readonly id: string; readonly status: "ok"; readonly value: R }
  | { readonly id: string; readonly status: "failed"; readonly error: string }
  | { readonly id: string; readonly status: "blocked"; readonly by: string }

/**
 * Runs jobs with at most `concurrency` at a time, each only after every job it depends on has
 * succeeded, starting ready jobs in list order. A failing job (a rejected promise) does not stop
 * the others; the jobs that wait for it end as `blocked`. Dependencies on ids not in the list are
 * treated as already satisfied.
 *
 * @example
 * await runJobs([{ id: "a", dependsOn: [], run: async () => 1 }, { id: "b", dependsOn: ["a"], run: async () => 2 }], 2)
 * // Map { "a" => { status: "ok", value: 1 }, "b" => { status: "ok", value: 2 } }
 */
export const runJobs = async <R>(
  jobs: ReadonlyArray<Job<R>>,
  concurrency: number,
  onOutcome?: (outcome: JobOutcome<R>) => void,
): Promise<Map<string, JobOutcome<R>>> => {
  const ids = new Set(jobs.map((j) => j.id))
  const outcomes = new Map<string, JobOutcome<R>>()
  const pending = [...jobs]
  let running = 0
  const limit = Math.max(1, Math.floor(concurrency))
  return new Promise((resolve) => {
    const finish = (outcome: JobOutcome<R>) => {
      outcomes.set(outcome.id, outcome)
      onOutcome?.(outcome)
    }
    const pump = () => {
      // Jobs whose dependencies did not succeed are blocked (repeat: blocking can cascade).
      let changed = true
      while (changed) {
        changed = false
        for (let i = 0; i < pending.length; i++) {
          const job = pending[i]!
          const bad = job.dependsOn.find((d) => ids.has(d) && outcomes.has(d) && outcomes.get(d)!.status !== "ok")
          if (bad !== undefined) {
            pending.splice(i, 1)
            i--
            finish({ id: job.id, status: "blocked", by: bad })
            changed = true
          }
        }
      }
      for (let i = 0; i < pending.length && running < limit; i++) {
        const job = pending[i]!
        if (!job.dependsOn.every((d) => !ids.has(d) || outcomes.get(d)?.status === "ok")) continue
        pending.splice(i, 1)
        i--
        running++
        Promise.resolve()
          .then(job.run)
          .then(
            (value) => finish({ id: job.id, status: "ok", value }),
            (error: unknown) => finish({ id: job.id, status: "failed", error: error instanceof Error ? error.message : String(error) }),
          )
          .finally(() => {
            running--
            pump()
          })
      }
      if (running === 0) {
        // Nothing runs and nothing can start: what is left waits on a cycle.
        for (const job of pending.splice(0)) finish({ id: job.id, status: "blocked", by: job.dependsOn.find((d) => ids.has(d) && !outcomes.has(d)) ?? job.id })
        resolve(outcomes)
      }
    }
    pump()
  })
}
