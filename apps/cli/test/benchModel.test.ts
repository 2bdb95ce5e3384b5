import { describe, expect, test } from "bun:test"
import { runCli } from "./cli.ts"

describe("bun run bench model", () => {
  test("--profile adds where a training step's and a sampling run's time went, kernel by kernel", async () => {
    const r = await runCli(["bench", "model", "--preset", "tiny", "--repeats", "1", "--backend", "wasm", "--profile"])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.train.tokensPerSecond).toBeGreaterThan(0)
    for (const part of [out.train.profile, out.sample.profile]) {
      expect(part.kernels.length).toBeGreaterThan(0)
      expect(part.kernels.some((k: { kernel: string }) => k.kernel.startsWith("BatchMatMul ["))).toBe(true)
      const inKernels = part.kernels.reduce((sum: number, k: { ms: number }) => sum + k.ms, 0)
      expect(inKernels).toBeLessThanOrEqual(part.totalMs)
      expect(part.outsideKernelsMs).toBeCloseTo(part.totalMs - inKernels, 6)
    }
  })

  test("--profile with --model-shape is refused naming the flag (exit 2)", async () => {
    const r = await runCli(["bench", "model", "--model-shape", "qwen3-0.6b", "--profile"])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("--profile")
  })
})
