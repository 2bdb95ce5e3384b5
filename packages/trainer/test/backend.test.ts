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
