import { afterAll, describe, expect, test } from "bun:test"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { household, shop } from "@icrl/envs-agentic"
import { cliMain, repoRoot, runCli } from "./cli.ts"

const root = mkdtempSync(join(tmpdir(), "icrl-train-cli-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const base = join(repoRoot, "packages", "trainer", "test", "fixtures", "qwen3", "mha-tied-f16")

const cli = (command: string, args: ReadonlyArray<string>) => {
  const r = Bun.spawnSync([process.execPath, cliMain, command, "--backend", "wasm", ...args], { stdout: "pipe", stderr: "pipe", timeout: 240_000 })
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() }
}

/** A very small run on a tiny Qwen3 folder: 4 warm-start (SFT) steps and 2 RL steps of 2 tasks x 2 attempts. */
const small = ["--env", "math", "--model", base, "--warmstart-steps", "4", "--warmstart-batch", "4", "--steps", "2", "--batch-size", "2", "--group-size", "2", "--eval-tasks", "4", "--eval-every", "0", "--cache-dir", join(root, "cache")]

/** A run of a few seconds: the tiny model, a short warm start (cached across the tests), 3 steps. */
const quick = ["--env", "math", "--preset", "tiny", "--backend", "wasm", "--steps", "3", "--batch-size", "2", "--group-size", "2", "--warmstart-steps", "5", "--eval-tasks", "2", "--eval-every", "0", "--checkpoint-every", "1", "--cache-dir", join(root, "cache")]

const spawnTrain = (args: ReadonlyArray<string>) =>
  Bun.spawn([process.execPath, cliMain, "train", ...args], { cwd: repoRoot, stdout: "pipe", stderr: "pipe" })

const trainSteps = (dir: string): Array<number> =>
  readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { kind: string; step: number })
    .filter((r) => r.kind === "train")
    .map((r) => r.step)

const waitFor = async (check: () => boolean, limitMs = 60_000): Promise<void> => {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > limitMs) throw new Error("timed out")
    await Bun.sleep(20)
  }
}

describe("bun run train: the run directory", () => {
  test("a second process in the same directory (train, then --resume) fails at once naming the first's pid; the run is not duplicated", async () => {
    const out = join(root, "shared")
    // A run far longer than the checks (a 3-step run could end before the second process
    // started), stopped once they are done.
    const long = quick.map((a, i) => (quick[i - 1] === "--steps" ? "100000" : a))
    const first = spawnTrain([...long, "--out", out])
    const lock = join(out, "run.lock")
    await waitFor(() => existsSync(lock) && readFileSync(lock, "utf8") === `${first.pid}\n`)
    // --resume names the live process; a fresh run into the directory is refused for the run it
    // already holds (checked before the lock).
    const refusals = [`error: run directory ${out}: is in use by process ${first.pid}`, `error: run directory ${out}: already holds a run; use --resume ${out}`]
    for (const [args, refusal] of [[["--resume", out], refusals[0]!], [[...long, "--out", out], refusals[1]!]] as const) {
      const started = Date.now()
      const second = await runCli(["train", ...args])
      expect(second.code).toBe(1)
      expect(second.stderr).toContain(refusal)
      expect(Date.now() - started).toBeLessThan(20_000)
    }
    expect(first.exitCode).toBeNull()
    // On a busy machine the checks can end before the first process trained a step: wait for one.
    const metrics = join(out, "metrics.jsonl")
    await waitFor(() => existsSync(metrics) && readFileSync(metrics, "utf8").includes('"kind":"train"'))
    first.kill("SIGKILL")
    await first.exited
    // Only the first process trained: its steps, once each, in order (a line cut by the kill aside).
    const steps = readFileSync(metrics, "utf8")
      .split("\n")
      .flatMap((l) => {
        try {
          const r = JSON.parse(l) as { kind: string; step: number }
          return r.kind === "train" ? [r.step] : []
        } catch {
          return []
        }
      })
    expect(steps.length).toBeGreaterThan(0)
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1))
  })

  test("after a kill -9 the lock is taken over and --resume finishes the run without duplicate steps", async () => {
    const out = join(root, "killed")
    const first = spawnTrain([...quick, "--out", out])
    await waitFor(() => existsSync(join(out, "checkpoints", "step-000001", "checkpoint.json")))
    first.kill("SIGKILL")
    await first.exited
    const resumed = await runCli(["train", "--resume", out])
    expect(resumed.stderr).toContain(`took over ${out} from process ${first.pid}, which ended without releasing it`)
    expect(resumed.code).toBe(0)
    expect(trainSteps(out)).toEqual([1, 2, 3])
  })

  test('--out "" is refused instead of training into the current directory', async () => {
    const before = readdirSync(repoRoot).sort()
    const result = await runCli(["train", ...quick, "--out", ""])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('error: run directory "": is empty; name a directory for the run')
    expect(readdirSync(repoRoot).sort()).toEqual(before)
  })

  test("a directory holding something else is refused, its own config.json even with --allow-nonempty-out", async () => {
    const out = join(root, "theirs")
    mkdirSync(out)
    writeFileSync(join(out, "config.json"), '{"theirs": true}\n')
    const refused = await runCli(["train", ...quick, "--out", out, "--allow-nonempty-out"])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`holds a config.json that a run would overwrite and that is not a run config`)
    expect(readFileSync(join(out, "config.json"), "utf8")).toBe('{"theirs": true}\n')
    expect(readdirSync(out)).toEqual(["config.json"])
    rmSync(join(out, "config.json"))
    writeFileSync(join(out, "notes.txt"), "mine\n")
    const other = await runCli(["train", ...quick, "--out", out])
    expect(other.code).toBe(1)
    expect(other.stderr).toContain("is not empty and holds no run (notes.txt); choose another --out, or pass --allow-nonempty-out")
    expect(readdirSync(out)).toEqual(["notes.txt"])
    // A flag may be given once: this run takes one step instead of quick's three.
    const oneStep = quick.map((arg, i) => (quick[i - 1] === "--steps" ? "1" : arg))
    const allowed = await runCli(["train", ...oneStep, "--out", out, "--allow-nonempty-out"])
    expect(allowed.code).toBe(0)
    expect(readFileSync(join(out, "notes.txt"), "utf8")).toBe("mine\n")
    expect(trainSteps(out)).toEqual([1])
  })
})

describe("bun run train --model DIR --lora-rank R (end to end, tiny Qwen3 folder)", () => {
  const out = join(root, "lora")

  test("trains adapters, writes them in PEFT's layout and, with --merge, a merged Hugging Face folder; resume continues", () => {
    const r = cli("train", [...small, "--lora-rank", "4", "--lora-targets", "q,v,up", "--merge", "--out", out, "--json"])
    expect(r.code).toBe(0)
    expect(r.stderr).toContain("LoRA rank 4")
    expect(JSON.parse(r.stdout).steps).toBe(2)
    const adapter = JSON.parse(readFileSync(join(out, "adapter", "adapter_config.json"), "utf8"))
    expect(adapter).toMatchObject({ peft_type: "LORA", r: 4, lora_alpha: 8, target_modules: ["q_proj", "v_proj", "up_proj"] })
    expect(existsSync(join(out, "adapter", "adapter_model.safetensors"))).toBe(true)
    for (const f of ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]) expect(existsSync(join(out, "hf", f))).toBe(true)
    const manifest = JSON.parse(readFileSync(join(out, "checkpoints", "latest", "checkpoint.json"), "utf8"))
    expect(manifest.base).toBe(base)
    expect(manifest.lora).toEqual({ rank: 4, alpha: 8, targets: ["q", "v", "up"] })
    expect(manifest.variables.every((n: string) => /lora_[ab]$/.test(n))).toBe(true)
    const resumed = cli("train", ["--resume", out, "--steps", "3", "--json"])
    expect(resumed.code).toBe(0)
    expect(JSON.parse(resumed.stdout).steps).toBe(3)
  })

  test("the merged folder, the adapter on the base and the run's checkpoint are the same model", () => {
    const prompt = ["--prompt", "Problem: 12 + 7\nSolution:", "--max-tokens", "12", "--json", "--chat"]
    const merged = cli("generate", ["--model", join(out, "hf"), ...prompt])
    const onBase = cli("generate", ["--model", base, "--adapter", join(out, "adapter"), ...prompt])
    const checkpoint = cli("generate", ["--checkpoint", join(out, "checkpoints", "latest"), ...prompt])
    const plain = cli("generate", ["--model", base, ...prompt])
    for (const r of [merged, onBase, checkpoint, plain]) expect(r.code).toBe(0)
    expect(JSON.parse(onBase.stdout).tokenIds).toEqual(JSON.parse(checkpoint.stdout).tokenIds)
    expect(JSON.parse(merged.stdout).tokenIds).toEqual(JSON.parse(onBase.stdout).tokenIds)
    const lps = (r: { stdout: string }) => JSON.parse(r.stdout).logprobs as Array<number>
    lps(merged).forEach((lp, i) => expect(Math.abs(lp - lps(onBase)[i]!)).toBeLessThan(1e-3))
    // Training changed the model.
    expect(lps(plain)).not.toEqual(lps(onBase))
    const evaluated = cli("eval", ["--env", "math", "--model", base, "--adapter", join(out, "adapter"), "--tasks", "4", "--pass-k", "0", "--json"])
    expect(evaluated.code).toBe(0)
    expect(JSON.parse(evaluated.stdout).tasks).toBe(4)
  })

  test("model and LoRA flags are checked before anything runs", () => {
    const cases: Array<[ReadonlyArray<string>, string]> = [
      [["--env", "math", "--lora-rank", "4"], "--lora-rank"],
      [["--env", "math", "--model", base, "--merge"], "--merge"],
      [["--env", "math", "--model", base, "--preset", "tiny"], "--preset"],
      [["--env", "math", "--model", base, "--lora-rank", "4", "--lora-targets", "q,embed"], "--lora-targets"],
      [["--env", "math", "--model", join(root, "absent")], "--model"],
    ]
    for (const [args, flag] of cases) {
      const r = cli("train", [...args, "--out", join(root, "never")])
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(flag)
    }
    expect(existsSync(join(root, "never"))).toBe(false)
  })
})

describe("bun run train: an environment's training defaults", () => {
  const savedConfig = (dir: string) =>
    JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as { algorithm: Record<string, unknown>; settings: Record<string, unknown> }
  // No warm start and no RL step: only the settings the run starts with are looked at.
  const bare = ["--env", "household", "--preset", "tiny", "--warmstart-steps", "0", "--steps", "0", "--eval-tasks", "1", "--eval-rounds", "1", "--cache-dir", join(root, "cache")]

  test("fill the warm start and knobs not given; flags override them", () => {
    const defaults = household.trainingDefaults!
    const fromEnv = join(root, "env-defaults")
    expect(cli("train", [...bare, "--out", fromEnv]).code).toBe(0)
    const config = savedConfig(fromEnv)
    expect(config.settings["warmstartBatchSize"]).toBe(defaults.warmstart!.batchSize!)
    expect(config.settings["warmstartLr"]).toBe(defaults.warmstart!.lr!)
    expect(config.algorithm["train_batch_size"]).toBe(defaults.knobs!.train_batch_size!)
    expect(config.algorithm["lr"]).toBe(defaults.knobs!.lr!)

    const given = join(root, "env-defaults-given")
    expect(cli("train", [...bare, "--warmstart-batch", "3", "--warmstart-lr", "0.002", "--batch-size", "5", "--lr", "0.0003", "--out", given]).code).toBe(0)
    const overridden = savedConfig(given)
    expect([overridden.settings["warmstartBatchSize"], overridden.settings["warmstartLr"]]).toEqual([3, 0.002])
    expect([overridden.algorithm["train_batch_size"], overridden.algorithm["lr"]]).toEqual([5, 0.0003])
  })

  test("an environment's own knobs reach the run: shop's temperature and KL term unless --temperature or --kl-coef is given", () => {
    const shopBare = bare.map((arg) => (arg === "household" ? "shop" : arg))
    const knobs = shop.trainingDefaults!.knobs!
    const fromEnv = join(root, "shop-defaults")
    expect(cli("train", [...shopBare, "--out", fromEnv]).code).toBe(0)
    const config = savedConfig(fromEnv).algorithm
    expect([config["temperature"], config["use_kl_loss"], config["kl_loss_coef"]]).toEqual([knobs.temperature!, true, knobs.kl_loss_coef!])
    const given = join(root, "shop-defaults-given")
    expect(cli("train", [...shopBare, "--temperature", "0.9", "--kl-coef", "0", "--out", given]).code).toBe(0)
    const overridden = savedConfig(given).algorithm
    expect([overridden["temperature"], overridden["use_kl_loss"], overridden["kl_loss_coef"]]).toEqual([0.9, false, 0])
  })
})
