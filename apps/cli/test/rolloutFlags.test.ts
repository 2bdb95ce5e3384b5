import { afterAll, describe, expect, test } from "bun:test"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cliMain, repoRoot, runCli } from "./cli.ts"

const root = mkdtempSync(join(tmpdir(), "icrl-rollout-cli-"))
const engines: Array<ReturnType<typeof Bun.spawn>> = []
afterAll(() => {
  for (const engine of engines) engine.kill("SIGKILL")
  rmSync(root, { recursive: true, force: true })
})

/** A run of a few seconds: the tiny model, a short warm start (cached across the tests), a checkpoint every step. */
const quick = (steps: number) => [
  "--env", "math", "--preset", "tiny", "--backend", "wasm", "--steps", String(steps), "--batch-size", "2", "--group-size", "2",
  "--threads", "1", "--warmstart-steps", "5", "--eval-tasks", "2", "--eval-every", "0", "--checkpoint-every", "1", "--cache-dir", join(root, "cache"),
]

/** A tiny Qwen3 folder, and a run of a few seconds training LoRA adapters on it. */
const qwen3 = join(repoRoot, "packages", "trainer", "test", "fixtures", "qwen3", "mha-tied-f16")
const quickLora = (steps: number) => [
  "--env", "math", "--model", qwen3, "--lora-rank", "4", "--backend", "wasm", "--threads", "1", "--steps", String(steps), "--batch-size", "2", "--group-size", "2",
  "--warmstart-steps", "4", "--warmstart-batch", "4", "--eval-tasks", "2", "--eval-every", "0", "--checkpoint-every", "1", "--cache-dir", join(root, "cache"),
]

/** Starts `serve` (of `--preset tiny` unless `extra` names a model) on a free port and returns its API root once it listens. */
const startEngine = async (extra: ReadonlyArray<string> = ["--allow-weight-updates"]): Promise<{ url: string; process: ReturnType<typeof Bun.spawn> }> => {
  const model = extra.includes("--model") ? [] : ["--preset", "tiny"]
  const child = Bun.spawn([process.execPath, cliMain, "serve", ...model, "--port", "0", "--backend", "wasm", "--threads", "1", ...extra], { cwd: repoRoot, stdout: "ignore", stderr: "pipe" })
  engines.push(child)
  let text = ""
  const decoder = new TextDecoder()
  for await (const chunk of child.stderr as ReadableStream<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true })
    const match = /at (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(text)
    if (match !== null) return { url: match[1]!, process: child }
  }
  throw new Error(`serve did not start: ${text}`)
}

interface TrainLine {
  readonly kind: string
  readonly step: number
  readonly generatedTokens: number
  readonly loss: number
  readonly critiqueFreeAccuracy: number
  readonly samplerWeightMean: number
  readonly samplerWeightClipFraction: number
  readonly samplingSec: number
  readonly syncSec: number
  readonly rolloutRequests?: number
  readonly rolloutMismatches?: number
}

const trainLines = (dir: string): Array<TrainLine> =>
  readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as TrainLine)
    .filter((r) => r.kind === "train")

describe("train --rollout-base-url: rollouts on serve processes", () => {
  test("two engines sample exactly what the trainer samples in-process: the same tokens, rewards and losses, with weights of 1", async () => {
    const [a, b] = await Promise.all([startEngine(), startEngine()])
    const local = await runCli(["train", ...quick(3), "--out", join(root, "local")])
    expect(local.code).toBe(0)
    const remote = await runCli(["train", ...quick(3), "--out", join(root, "remote"), "--rollout-base-url", `${a.url},${b.url}`])
    expect(remote.code).toBe(0)
    expect(remote.stderr).toContain(`rollouts on ${a.url}, ${b.url}: weights from ${join(root, "remote", "rollout-weights", "step-000000")} loaded in`)
    const perEngine = /rollout requests by engine: \S+ (\d+), \S+ (\d+); 0 retried, 0 dropped/.exec(remote.stderr)
    expect(perEngine).not.toBeNull()
    expect(Number(perEngine![1])).toBeGreaterThan(0)
    expect(Number(perEngine![2])).toBeGreaterThan(0)
    const [mine, theirs] = [trainLines(join(root, "local")), trainLines(join(root, "remote"))]
    expect(theirs.map((r) => r.step)).toEqual([1, 2, 3])
    theirs.forEach((r, i) => {
      expect(r.generatedTokens).toBe(mine[i]!.generatedTokens)
      expect(r.critiqueFreeAccuracy).toBe(mine[i]!.critiqueFreeAccuracy)
      expect(Math.abs(r.loss - mine[i]!.loss)).toBeLessThan(1e-5)
      expect(Math.abs(r.samplerWeightMean - 1)).toBeLessThan(1e-4)
      expect(r.samplerWeightClipFraction).toBe(0)
      expect(r.rolloutRequests).toBeGreaterThan(0)
      expect(r.rolloutMismatches).toBe(0)
      expect(mine[i]!.syncSec).toBe(0)
    })
    expect(theirs[0]!.syncSec).toBeGreaterThan(0)
    // Only the last weights folder is kept while the run goes on, and none once it ends.
    expect(existsSync(join(root, "remote", "rollout-weights"))).toBe(false)
  })

  test("an engine killed during the run: its requests move to the others, then the weight sync names it and stops the run; --resume with the others finishes it", async () => {
    const fleet = await Promise.all([startEngine(), startEngine(), startEngine()])
    const out = join(root, "killed")
    const run = Bun.spawn([process.execPath, cliMain, "train", ...quick(8), "--out", out, "--rollout-retries", "1", "--rollout-base-url", fleet.map((e) => e.url).join(",")], {
      cwd: repoRoot,
      stdout: "pipe",
      stderr: "pipe",
    })
    const metrics = join(out, "metrics.jsonl")
    const started = Date.now()
    while (!(existsSync(metrics) && trainLines(out).length >= 1)) {
      if (Date.now() - started > 120_000) throw new Error("no step was recorded")
      await Bun.sleep(10)
    }
    fleet[2]!.process.kill("SIGKILL")
    const [stderr, code] = await Promise.all([new Response(run.stderr).text(), run.exited])
    expect(code).toBe(1)
    expect(stderr).toMatch(new RegExp(`error: policy error: engine ${fleet[2]!.url.replaceAll(".", "\\.")}: POST /update_weights_from_disk .* failed after 2 attempts: `))
    const done = trainLines(out).map((r) => r.step)
    expect(done.length).toBeLessThan(8)
    expect(existsSync(join(out, "rollout-weights"))).toBe(false)
    const resumed = await runCli(["train", "--resume", out, "--rollout-base-url", `${fleet[0]!.url},${fleet[1]!.url}`])
    expect(resumed.code).toBe(0)
    expect(trainLines(out).map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
  })

  test("an engine that answers malformed JSON is retried, then named with its answer; nothing is trained and the run resumes on a real engine", async () => {
    const broken = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(request) {
        const path = new URL(request.url).pathname
        if (path === "/v1/models") return Response.json({ object: "list", data: [{ id: "tiny" }] })
        if (path === "/update_weights_from_disk") return Response.json({ success: true })
        return new Response("{oops", { status: 200, headers: { "content-type": "application/json" } })
      },
    })
    try {
      const url = `http://127.0.0.1:${broken.port}/v1`
      const out = join(root, "malformed")
      const failed = await runCli(["train", ...quick(2), "--out", out, "--rollout-retries", "2", "--rollout-base-url", url])
      expect(failed.code).toBe(1)
      expect(failed.stderr).toContain(`error: policy error: rollout request failed after 3 attempts (${url}: malformed response: not JSON: "{oops")`)
      expect(trainLines(out)).toEqual([])
      expect(existsSync(join(out, "checkpoints", "latest", "checkpoint.json"))).toBe(true)
      const engine = await startEngine()
      const resumed = await runCli(["train", "--resume", out, "--rollout-base-url", engine.url])
      expect(resumed.code).toBe(0)
      expect(trainLines(out).map((r) => r.step)).toEqual([1, 2])
    } finally {
      broken.stop(true)
    }
  })

  test("an engine that refuses weight updates stops the run before any step, naming it and what it said", async () => {
    const engine = await startEngine([])
    const out = join(root, "refused")
    const result = await runCli(["train", ...quick(1), "--out", out, "--rollout-retries", "1", "--rollout-base-url", engine.url])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`engine ${engine.url}: POST /update_weights_from_disk`)
    expect(result.stderr).toContain("HTTP 403: weight updates are disabled on this server; start serve with --allow-weight-updates")
    // It stopped before the first evaluation, with the step-0 checkpoint written for --resume, and left no weights behind.
    expect(existsSync(join(out, "metrics.jsonl"))).toBe(false)
    expect(existsSync(join(out, "checkpoints", "latest", "checkpoint.json"))).toBe(true)
    expect(existsSync(join(out, "rollout-weights"))).toBe(false)
  })

  test("an engine that is down is named, with what the connection said, before anything is sampled", async () => {
    const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() })
    const url = `http://127.0.0.1:${closed.port}/v1`
    closed.stop(true)
    const result = await runCli(["train", ...quick(1), "--out", join(root, "down"), "--rollout-retries", "1", "--rollout-base-url", url])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`error: policy error: engine ${url}: GET /v1/models failed after 2 attempts: ECONNREFUSED`)
  })

  test("LoRA: the engine samples from each update's adapter, loaded under a new name, and none is left loaded at the end; the same tokens and losses as in-process", async () => {
    const engine = await startEngine(["--model", qwen3, "--allow-weight-updates"])
    const local = await runCli(["train", ...quickLora(2), "--out", join(root, "lora-local")])
    expect(local.code).toBe(0)
    const remote = await runCli(["train", ...quickLora(2), "--out", join(root, "lora-remote"), "--rollout-base-url", engine.url])
    expect(remote.code).toBe(0)
    expect(remote.stderr).toMatch(/rollouts on \S+: adapter icrl-\w+-step-000000 from \S+step-000000 loaded in/)
    expect(remote.stderr).toContain("0 retried, 0 dropped")
    const [mine, theirs] = [trainLines(join(root, "lora-local")), trainLines(join(root, "lora-remote"))]
    expect(theirs.map((r) => r.step)).toEqual([1, 2])
    theirs.forEach((r, i) => {
      expect(r.generatedTokens).toBe(mine[i]!.generatedTokens)
      expect(Math.abs(r.loss - mine[i]!.loss)).toBeLessThan(1e-5)
      expect(Math.abs(r.samplerWeightMean - 1)).toBeLessThan(1e-4)
      expect(r.rolloutMismatches).toBe(0)
    })
    // The run unloaded its last adapter: the engine serves its base model alone again.
    const models = (await (await fetch(`${engine.url}/models`)).json()) as { data: Array<{ id: string }> }
    expect(models.data.map((m) => m.id)).toEqual(["mha-tied-f16"])
    expect(existsSync(join(root, "lora-remote", "rollout-weights"))).toBe(false)
  })

  test("LoRA: an engine that refuses the adapter is named with its answer; the run resumes on one that loads it", async () => {
    const refusing = await startEngine(["--model", qwen3])
    const out = join(root, "lora-refused")
    const failed = await runCli(["train", ...quickLora(2), "--out", out, "--rollout-retries", "1", "--rollout-base-url", refusing.url])
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain(`error: policy error: engine ${refusing.url}: POST /v1/load_lora_adapter {"lora_name":"icrl-`)
    expect(failed.stderr).toContain("failed after 2 attempts: HTTP 403: weight updates are disabled on this server; start serve with --allow-weight-updates")
    expect(existsSync(join(out, "rollout-weights"))).toBe(false)
    const engine = await startEngine(["--model", qwen3, "--allow-weight-updates"])
    const resumed = await runCli(["train", "--resume", out, "--rollout-base-url", engine.url])
    expect(resumed.code).toBe(0)
    expect(trainLines(out).map((r) => r.step)).toEqual([1, 2])
  })

  test("bad rollout flags exit 2 naming the flag before anything runs", async () => {
    for (const [args, message] of [
      [["--rollout-base-url", "ftp://x/v1"], '--rollout-base-url: "ftp://x/v1" is not an http(s) URL'],
      [["--rollout-base-url", "http://a/v1,http://a/v1/"], "--rollout-base-url: http://a/v1 is listed twice"],
      [["--rollout-api-key", "k"], "--rollout-base-url: is needed by the other --rollout-* flags"],
      [["--rollout-base-url", "http://a/v1", "--rollout-api-key-env", "ICRL_NO_SUCH_VARIABLE"], "--rollout-api-key-env: environment variable ICRL_NO_SUCH_VARIABLE is not set"],
    ] as const) {
      const out = join(root, "bad-flags")
      const result = await runCli(["train", ...quick(1), "--out", out, ...args])
      expect(result.code).toBe(2)
      expect(result.stderr).toContain(`error: ${message}`)
      expect(existsSync(out)).toBe(false)
    }
  })
})
