import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { runJobs, type Job } from "../src/compare/jobs.ts"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe("runJobs", () => {
  test("runs each job once, at most `concurrency` at a time, each after the jobs it needs succeeded; failures block their dependents only", async () => {
    const jobSpec = fc.record({ ms: fc.integer({ min: 0, max: 3 }), fails: fc.boolean(), deps: fc.array(fc.nat(), { maxLength: 3 }) })
    await fc.assert(
      fc.asyncProperty(fc.array(jobSpec, { minLength: 0, maxLength: 12 }), fc.integer({ min: 1, max: 4 }), async (specs, concurrency) => {
        let running = 0
        let peak = 0
        const started: Array<string> = []
        const finished = new Set<string>()
        const failed = new Set<string>()
        const jobs: Array<Job<number>> = specs.map((s, i) => {
          // Dependencies only on earlier jobs (a DAG), some of them on ids outside the list.
          const dependsOn = [...new Set(s.deps.map((d) => (i === 0 ? `outside-${d}` : `j${d % i}`)))]
          return {
            id: `j${i}`,
            dependsOn,
            run: async () => {
              for (const d of dependsOn) if (!d.startsWith("outside")) expect(finished.has(d) && !failed.has(d)).toBe(true)
              started.push(`j${i}`)
              running++
              peak = Math.max(peak, running)
              await sleep(s.ms)
              running--
              finished.add(`j${i}`)
              if (s.fails) {
                failed.add(`j${i}`)
                throw new Error(`j${i} broke`)
              }
              return i
            },
          }
        })
        const outcomes = await runJobs(jobs, concurrency)
        expect(peak).toBeLessThanOrEqual(concurrency)
        expect(outcomes.size).toBe(jobs.length)
        expect(new Set(started).size).toBe(started.length)
        for (const [i, job] of jobs.entries()) {
          const o = outcomes.get(job.id)!
          const badDep = job.dependsOn.some((d) => outcomes.has(d) && outcomes.get(d)!.status !== "ok")
          if (badDep) expect(o.status).toBe("blocked")
          else if (specs[i]!.fails) expect(o).toEqual({ id: job.id, status: "failed", error: `${job.id} broke` })
          else expect(o).toEqual({ id: job.id, status: "ok", value: i })
        }
      }),
      { numRuns: 60 },
    )
  })

  test("independent jobs really overlap up to the limit", async () => {
    let running = 0
    let peak = 0
    const jobs = Array.from({ length: 6 }, (_, i) => ({
      id: `j${i}`,
      dependsOn: [],
      run: async () => {
        running++
        peak = Math.max(peak, running)
        await sleep(5)
        running--
      },
    }))
    await runJobs(jobs, 3)
    expect(peak).toBe(3)
  })

  test("jobs waiting on each other in a cycle end blocked instead of hanging", async () => {
    const outcomes = await runJobs(
      [
        { id: "a", dependsOn: ["b"], run: async () => 1 },
        { id: "b", dependsOn: ["a"], run: async () => 2 },
        { id: "c", dependsOn: [], run: async () => 3 },
      ],
      2,
    )
    expect(outcomes.get("a")!.status).toBe("blocked")
    expect(outcomes.get("b")!.status).toBe("blocked")
    expect(outcomes.get("c")).toEqual({ id: "c", status: "ok", value: 3 })
  })

  test("reports each outcome as it happens", async () => {
    const seen: Array<string> = []
    await runJobs(
      [
        { id: "a", dependsOn: [], run: async () => Promise.reject(new Error("no")) },
        { id: "b", dependsOn: ["a"], run: async () => 1 },
      ],
      1,
      (o) => seen.push(`${o.id}:${o.status}`),
    )
    expect(seen).toEqual(["a:failed", "b:blocked"])
  })
})
