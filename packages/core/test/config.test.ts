import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import { decodeAlgorithmConfig, defaultAlgorithmConfig } from "../src/index.ts"

const failure = (input: unknown) => Effect.runSync(Effect.flip(decodeAlgorithmConfig(input)))

describe("AlgorithmConfig", () => {
  test("defaults fill every knob", () => {
    expect(Effect.runSync(decodeAlgorithmConfig({}))).toEqual(defaultAlgorithmConfig)
    expect(defaultAlgorithmConfig.calibration).toBe("token-tis")
    expect(defaultAlgorithmConfig.calibration_cap).toBe(1)
  })

  test("bad values are rejected with a message naming the field", () => {
    const cases: Array<[unknown, string]> = [
      [{ clip_ratio_low: -0.1 }, "clip_ratio_low"],
      [{ adv_estimator: "ppo" }, "adv_estimator"],
      [{ rollout_n: 0 }, "rollout_n"],
      [{ rollout_n: 2.5 }, "rollout_n"],
      [{ calibration_cap: 0 }, "calibration_cap"],
      [{ lr: "fast" }, "lr"],
      [{ clip_ratio_c: 1 }, "clip_ratio_c"],
      [{ not_a_knob: 1 }, "not_a_knob"],
    ]
    for (const [input, field] of cases) {
      const error = failure(input)
      expect(error._tag).toBe("ConfigError")
      expect(error.field).toBe(field)
      expect(error.message).toContain(field)
    }
  })
})

describe("DataError", () => {
  test("names the file, and the line only when one is given", async () => {
    const { DataError } = await import("../src/index.ts")
    expect(new DataError({ file: "/x.jsonl", reason: "cannot open" }).message).toBe("/x.jsonl: cannot open")
    expect(new DataError({ file: "/x.jsonl", line: 3, reason: "bad JSON" }).message).toBe("/x.jsonl:3: bad JSON")
  })
})
