import { afterAll, describe, expect, test } from "bun:test"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runCli } from "./cli.ts"

const dir = mkdtempSync(join(tmpdir(), "icrl-envs-cli-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A GSM8K-format file of `count` word problems. */
const gsm8kFile = (name: string, count: number): string => {
  const path = join(dir, name)
  const line = (i: number) =>
    JSON.stringify({ question: `Ann has ${i} pens and gets ${i + 3} more. How many pens does she have?`, answer: `${i} + ${i + 3} = <<${i}+${i + 3}=${2 * i + 3}>>${2 * i + 3}\n#### ${2 * i + 3}` })
  writeFileSync(path, Array.from({ length: count }, (_, i) => `${line(i)}\n`).join(""))
  return path
}

describe("envs", () => {
  test("list shows names, descriptions and splits", async () => {
    const { stdout, code } = await runCli(["envs", "list", "--json"])
    expect(code).toBe(0)
    const rows = JSON.parse(stdout) as Array<{ name: string; splits: Array<string>; description: string }>
    for (const name of ["household", "shop"]) {
      const row = rows.find((r) => r.name === name)!
      expect(row.splits).toEqual(["train", "test"])
      expect(row.description.length).toBeGreaterThan(10)
    }
  })

  test("check prints a verdict per check and a JSON summary, exit 0 when all pass", async () => {
    const { stdout, code } = await runCli(["envs", "check", "--env", "household", "--episodes", "4"])
    expect(code).toBe(0)
    const lines = stdout.trim().split("\n")
    expect(lines.filter((l) => /^\s+PASS\s/.test(l)).length).toBe(13)
    expect(lines.find((l) => l.includes("trainingDefaults"))).toMatch(/^\s+PASS\s+trainingDefaults\s+warm-start steps \d+, .*train_batch_size \d+/)
    expect(lines.at(-2)).toBe("verdict: PASS")
    expect(JSON.parse(lines.at(-1)!)).toEqual({ env: "household", episodes: 4, expertSuccessRate: 1, criticCoverage: 1, failures: [] })
    const json = await runCli(["envs", "check", "--env", "shop", "--episodes", "3", "--json"])
    expect(json.code).toBe(0)
    const report = JSON.parse(json.stdout)
    expect(report).toMatchObject({ env: "shop", episodes: 3, expertSuccessRate: 1, failures: [], ok: true })
  })

  test("check --data runs the checks on that file; an empty file fails naming it", async () => {
    const data = gsm8kFile("problems.jsonl", 60)
    const { stdout, code } = await runCli(["envs", "check", "--env", "gsm8k", "--data", data, "--episodes", "3", "--json"])
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toMatchObject({ env: "gsm8k", episodes: 3, expertSuccessRate: 1, ok: true })
    const empty = gsm8kFile("empty.jsonl", 0)
    const failed = await runCli(["envs", "check", "--env", "gsm8k", "--data", empty, "--json"])
    expect(failed.code).toBe(1)
    expect(JSON.parse(failed.stdout).failures).toEqual([`tasks: failed: DataError: ${empty}: holds no records (the file is empty)`])
  })

  test("bad input exits with 2", async () => {
    expect((await runCli(["envs", "check"])).code).toBe(2)
    expect((await runCli(["envs", "check", "--env", "household", "--episodes", "0"])).stderr).toContain("--episodes")
    expect((await runCli(["envs", "check", "--env", "household", "--options", "oops"])).code).toBe(2)
    expect((await runCli(["envs", "frobnicate"])).code).toBe(2)
  })
})

describe("--difficulty of an agentic environment", () => {
  test("an unknown level exits with 2, naming the flag and the allowed values, in every command that takes it", async () => {
    const out = join(dir, "never-written")
    const commands = [
      ["train", "--env", "household", "--difficulty", "4", "--steps", "1", "--out", out],
      ["warmstart", "--env", "searchqa", "--difficulty", "hard", "--steps", "0", "--out", out],
      ["eval", "--env", "shop", "--difficulty", "0", "--checkpoint", "nowhere"],
      ["compare", "--env", "household", "--difficulty", "1-3", "--algos", "icrl,grpo", "--out", out],
      ["envs", "check", "--env", "shop", "--difficulty", "1-3"],
      ["play", "--env", "household", "--difficulty", "9"],
    ]
    for (const args of commands) {
      const { stderr, code } = await runCli(args, "")
      expect(`${args[0]}: ${code}`).toBe(`${args[0]}: 2`)
      expect(stderr).toMatch(/--difficulty.*".*" is not a (household|shop|searchqa) level; allowed: 1, 2, 3/)
    }
  }, 60_000)
})
