import { beforeAll, describe, expect, test } from "bun:test"
import * as tf from "@tensorflow/tfjs-core"
import { AdamW, ByteTokenizer, demonstrationExample, profileKernels, sftLoss, TransformerModel } from "../src/index.ts"
import { microConfig, useWasm } from "./helpers.ts"

beforeAll(useWasm)

const tok = new ByteTokenizer()
const batch = ["Problem: 2+3\nSolution:", "Problem: 10-4\nSolution:"].map((prompt, i) =>
  demonstrationExample(tok, { role: "solver", prompt, completion: [" 5", " 6"][i]! }),
)

describe("profileKernels", () => {
  test("times every kernel call of a training step, names matrix products by shape, and restores the kernels", () => {
    const before = tf.getKernelsForBackend("wasm").map((k) => [k.kernelName, k.kernelFunc] as const)
    const model = new TransformerModel(microConfig, 3)
    const opt = new AdamW(model.variables, { lr: 1e-3 })
    try {
      const { result, profile } = profileKernels(() => opt.step(() => sftLoss(model, batch)))
      expect(Number.isFinite(result.loss)).toBe(true)
      expect(profile.kernels.length).toBeGreaterThan(3)
      for (const k of profile.kernels) {
        expect(k.calls).toBeGreaterThan(0)
        expect(k.ms).toBeGreaterThanOrEqual(0)
      }
      // slowest first, and the parts add up to the total
      profile.kernels.slice(1).forEach((k, i) => expect(k.ms).toBeLessThanOrEqual(profile.kernels[i]!.ms))
      const inKernels = profile.kernels.reduce((sum, k) => sum + k.ms, 0)
      expect(inKernels + profile.outsideKernelsMs).toBeCloseTo(profile.totalMs, 6)
      expect(inKernels).toBeLessThanOrEqual(profile.totalMs)
      const matmuls = profile.kernels.filter((k) => k.kernel.startsWith("BatchMatMul"))
      expect(matmuls.length).toBeGreaterThan(0)
      for (const k of matmuls) expect(k.kernel).toMatch(/^BatchMatMul \[[0-9x]+\]ᵀ? \* \[[0-9x]+\]ᵀ?$/)
    } finally {
      opt.dispose()
      model.dispose()
    }
    const after = tf.getKernelsForBackend("wasm").map((k) => [k.kernelName, k.kernelFunc] as const)
    expect(new Map(after)).toEqual(new Map(before))
  })

  test("a run that throws still gets its kernels back", () => {
    const before = new Map(tf.getKernelsForBackend("wasm").map((k) => [k.kernelName, k.kernelFunc] as const))
    expect(() =>
      profileKernels(() => {
        tf.tidy(() => tf.add(tf.ones([2]), tf.ones([2])))
        throw new Error("stop")
      }),
    ).toThrow("stop")
    expect(new Map(tf.getKernelsForBackend("wasm").map((k) => [k.kernelName, k.kernelFunc] as const))).toEqual(before)
  })
})
