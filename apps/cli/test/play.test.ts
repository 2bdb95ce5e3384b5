import { describe, expect, test } from "bun:test"
import { householdExpertPlan, householdTasks, searchQaExpertPlan, searchQaTasks } from "@icrl/envs-agentic"
import { runCli } from "./cli.ts"

describe("play (a real subprocess with piped stdin)", () => {
  test("shows the projected prompt, applies each line as an action, and reports the won episode", async () => {
    const task = householdTasks("test", { seed: 3, count: 1 })[0]!
    const plan = householdExpertPlan(task).map((s) => s.action)
    // The last action is given as a model completion, the others as plain actions; one bad line in between.
    const lines = ["fly to the moon", ...plan.slice(0, -1), `<think>place</think><action>${plan.at(-1)}</action>`]
    const { stdout, code } = await runCli(["play", "--env", "household", "--seed", "3"], `${lines.join("\n")}\n`)
    expect(code).toBe(0)
    expect(stdout).toContain(`household task ${task.id} (test)`)
    expect(stdout).toContain("===== what the model sees (step 1) =====\nTask: ")
    expect(stdout).toContain("===== what the model sees (step 2) =====\nRecent (1 step taken):\n> fly to the moon\nTask: ")
    expect(stdout).toContain(`Task: ${task.text}\nNow: You are in the middle of a room.`)
    expect(stdout).toContain("> fly to the moon\nNothing happens.\n[reward 0, INVALID]")
    expect(stdout).toContain(`> ${plan.at(-1)}\n`)
    expect(stdout).toContain("[reward 1, valid, terminated]")
    expect(stdout).toContain(`===== episode over: ${plan.length + 1} steps, won true, score 1`)
    expect(stdout).toContain("reference critique: Correct: the task is complete.")
  })

  test("stops cleanly at end of input and on :quit", async () => {
    const eof = await runCli(["play", "--env", "shop", "--seed", "1"], "search[tea]\n")
    expect(eof.code).toBe(0)
    expect(eof.stdout).toContain('Results for "tea"')
    expect(eof.stdout).toContain("===== episode stopped: 1 step, won false")
    const quit = await runCli(["play", "--env", "shop"], ":quit\nsearch[tea]\n")
    expect(quit.code).toBe(0)
    expect(quit.stdout).toContain("===== episode stopped: 0 steps")
    expect(quit.stdout).not.toContain('Results for "tea"')
  })

  test("bad flags exit with 2 and name the flag", async () => {
    const unknown = await runCli(["play", "--env", "nowhere"], "")
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('--env: unknown environment "nowhere"; available: ')
    expect(unknown.stderr).toContain("household")
    const bad = await runCli(["play", "--env", "household", "--seed", "one"], "")
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("--seed")
  })

  test("searchqa: the expert's actions typed in win the episode", async () => {
    const t = searchQaTasks("test", { seed: 1, count: 1 })[0]!
    const lines = ["look around", ...searchQaExpertPlan(t, 4).map((s) => s.action)]
    const { stdout, code } = await runCli(["play", "--env", "searchqa", "--seed", "1"], `${lines.join("\n")}\n`)
    expect(code).toBe(0)
    expect(stdout).toContain(`searchqa task ${t.id} (test), step cap 5`)
    expect(stdout).toContain(`Task: ${t.text}\nNow: No passages yet (4 searches left).`)
    expect(stdout).toContain("> look around\nInvalid action.")
    expect(stdout).toContain("[reward 1, valid, terminated]")
    expect(stdout).toContain("won true, score 1")
    expect(stdout).toContain("reference critique: Correct: the answer is right.")
  })
})
