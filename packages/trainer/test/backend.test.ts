import { afterAll, describe, expect, test } from "bun:test"
import * as tf from "@tensorflow/tfjs-core"
import { AdamW, ByteTokenizer, demonstrationExample, selectBackend, sftLoss, TransformerModel } from "../src/index.ts"
import { maxAbsDiff, microConfig } from "./helpers.ts"

const tok = new ByteTokenizer()
const batch = ["Problem: 2+3\nSolution:", "Problem: 10-4\nSolution:", "Q"].map((prompt, i) =>
  demonstrationExample(tok, { role: "solver", prompt, completion: [" 5", " 6", " a longer answer"][i]! }),
)

const trainOn = async (backend: "cpu" | "wasm") => {
  const info = await selectBackend(backend)
  expect(info.backend).toBe(backend)
  const model = new TransformerModel(microConfig, 1)
  const opt = new AdamW(model.variables, { lr: 1e-2 })
  const losses = [0, 1, 2].map(() => opt.step(() => sftLoss(model, batch)).loss)
  const weights = model.variables.map((v) => Float32Array.from(v.dataSync()))
  opt.dispose()
  model.dispose()
  return { losses, weights }
}

afterAll(() => selectBackend("wasm"))

describe("selectBackend", () => {
  test("training steps agree between the wasm and cpu backends", async () => {
    const cpu = await trainOn("cpu")
    const wasm = await trainOn("wasm")
    cpu.losses.forEach((l, i) => expect(Math.abs(l - wasm.losses[i]!)).toBeLessThan(1e-4 * Math.abs(l)))
    cpu.weights.forEach((w, i) => expect(maxAbsDiff(w, wasm.weights[i]!)).toBeLessThan(1e-4))
  })

  test("an explicit backend that cannot load is an error naming it", async () => {
    const result = await selectBackend("tensorflow").then(
      (info) => info,
      (e: unknown) => e,
    )
    if (result instanceof Error) expect(result.message).toMatch(/backend tensorflow is not available/)
    else expect((result as { backend: string }).backend).toBe("tensorflow")
    await selectBackend("wasm")
  })

  test("auto without BLAS falls through to wasm and says why", async () => {
    const info = await selectBackend("auto", { blas: false })
    expect(["tensorflow", "wasm"]).toContain(info.backend)
    expect(info.description.startsWith(info.backend)).toBe(true)
    expect(tf.getBackend()).toBe(info.backend)
  })
})

describe("native kernels fall back cleanly", () => {
  /** A child process: select `auto`, train two steps, print the description and the losses. */
  const child = (env: Record<string, string>) => {
    const script = `
      import { AdamW, ByteTokenizer, demonstrationExample, fusedKernelsActive, selectBackend, sftLoss, TransformerModel } from "./src/index.ts"
      import { microConfig } from "./test/helpers.ts"
      const info = await selectBackend("auto", { threads: 1 })
      const tok = new ByteTokenizer()
      const batch = [demonstrationExample(tok, { role: "solver", prompt: "Problem: 2+3\\nSolution:", completion: " 5" })]
      const model = new TransformerModel(microConfig, 1)
      const opt = new AdamW(model.variables, { lr: 1e-2 })
      const losses = [0, 1].map(() => opt.step(() => sftLoss(model, batch)).loss)
      console.log(JSON.stringify({ description: info.description, fused: fusedKernelsActive(), losses }))`
    const run = Bun.spawnSync(["bun", "-e", script], { cwd: `${import.meta.dir}/..`, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" })
    expect(run.exitCode).toBe(0)
    return JSON.parse(run.stdout.toString().trim().split("\n").at(-1)!) as { description: string; fused: boolean; losses: Array<number> }
  }

  test("without a C compiler, or with ICRL_NATIVE=0, training runs on the composed kernels and the start-up line says why", () => {
    const noCompiler = child({ CC: "/nonexistent/cc", ICRL_NATIVE: "1" })
    expect(noCompiler.fused).toBe(false)
    expect(noCompiler.description).toContain("no C compiler (/nonexistent/cc)")
    const off = child({ ICRL_NATIVE: "0" })
    expect(off.fused).toBe(false)
    expect(off.description).toContain("ICRL_NATIVE=0")
    // Both fall back to the same composed path: the same losses, bit for bit.
    expect(noCompiler.losses).toEqual(off.losses)
    noCompiler.losses.forEach((l) => expect(Number.isFinite(l)).toBe(true))
  })
})
