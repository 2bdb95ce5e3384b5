import { describe, expect, test } from "bun:test"
import { join } from "node:path"
import { householdExpertPlan, householdTasks } from "../src/index.ts"

const root = join(import.meta.dir, "..", "..", "..")
const main = join(root, "apps", "cli", "src", "main.ts")

const cli = async (args: ReadonlyArray<string>, input?: string) => {
  const child = Bun.spawn(["bun", main, ...args], { cwd: root, stdin: "pipe", stdout: "pipe", stderr: "pipe" })
  if (input !== undefined) child.stdin.write(input)
  await child.stdin.end()
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  return { stdout, stderr, code }
}

describe("play (a real subprocess with piped stdin)", () => {
  test("shows the projected prompt, applies each line as an action, and reports the won episode", async () => {
    const task = householdTasks("test", { seed: 3, count: 1 })[0]!
    const plan = householdExpertPlan(task).map((s) => s.action)
    // The last action is given as a model completion, the others as plain actions; one bad line in between.
    const lines = ["fly to the moon", ...plan.slice(0, -1), `<think>place</think><action>${plan.at(-1)}</action>`]
    const { stdout, code } = await cli(["play", "--env", "household", "--seed", "3"], `${lines.join("\n")}\n`)
    expect(code).toBe(0)
    expect(stdout).toContain(`household task ${task.id} (test)`)
    expect(stdout).toContain("===== what the model sees (step 1) =====\nTask: ")
    expect(stdout).toContain("===== what the model sees (step 2) =====\nRecent (1 step taken):\n> fly to the moon\nTask: ")
    expect(stdout).toContain(`Task: ${task.text}\nNow: You are in the middle of a room.`)
    expect(stdout).toContain("> fly to the moon\nNothing happens.\n[reward -0.1, INVALID]")
    expect(stdout).toContain(`> ${plan.at(-1)}\n`)
    expect(stdout).toContain("[reward 1, valid, terminated]")
    expect(stdout).toContain(`===== episode over: ${plan.length + 1} steps, won true, score 1`)
    expect(stdout).toContain("reference critique: Correct: the task is complete.")
  })

  test("stops cleanly at end of input and on :quit", async () => {
    const eof = await cli(["play", "--env", "shop", "--seed", "1"], "search[tea]\n")
    expect(eof.code).toBe(0)
    expect(eof.stdout).toContain('Results for "tea"')
    expect(eof.stdout).toContain("===== episode stopped: 1 step, won false")
    const quit = await cli(["play", "--env", "shop"], ":quit\nsearch[tea]\n")
    expect(quit.code).toBe(0)
    expect(quit.stdout).toContain("===== episode stopped: 0 steps")
    expect(quit.stdout).not.toContain('Results for "tea"')
  })

  test("bad flags exit with 2 and name the flag", async () => {
    const unknown = await cli(["play", "--env", "nowhere"], "")
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('--env: unknown environment "nowhere"; available: ')
    expect(unknown.stderr).toContain("household")
    const bad = await cli(["play", "--env", "household", "--seed", "one"], "")
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("--seed")
  })
})

describe("envs", () => {
  test("list shows names, descriptions and splits", async () => {
    const { stdout, code } = await cli(["envs", "list", "--json"])
    expect(code).toBe(0)
    const rows = JSON.parse(stdout) as Array<{ name: string; splits: Array<string>; description: string }>
    for (const name of ["household", "shop"]) {
      const row = rows.find((r) => r.name === name)!
      expect(row.splits).toEqual(["train", "test"])
      expect(row.description.length).toBeGreaterThan(10)
    }
  })

  test("check prints a verdict per check and a JSON summary, exit 0 when all pass", async () => {
    const { stdout, code } = await cli(["envs", "check", "--env", "household", "--episodes", "4"])
    expect(code).toBe(0)
    const lines = stdout.trim().split("\n")
    expect(lines.filter((l) => /^\s+PASS\s/.test(l)).length).toBe(11)
    expect(lines.at(-2)).toBe("verdict: PASS")
    expect(JSON.parse(lines.at(-1)!)).toEqual({ env: "household", episodes: 4, expertSuccessRate: 1, criticCoverage: 1, failures: [] })
    const json = await cli(["envs", "check", "--env", "shop", "--episodes", "3", "--json"])
    expect(json.code).toBe(0)
    const report = JSON.parse(json.stdout)
    expect(report).toMatchObject({ env: "shop", episodes: 3, expertSuccessRate: 1, failures: [], ok: true })
  })

  test("bad input exits with 2", async () => {
    expect((await cli(["envs", "check"])).code).toBe(2)
    expect((await cli(["envs", "check", "--env", "household", "--episodes", "0"])).stderr).toContain("--episodes")
    expect((await cli(["envs", "check", "--env", "household", "--options", "oops"])).code).toBe(2)
    expect((await cli(["envs", "frobnicate"])).code).toBe(2)
  })
})
