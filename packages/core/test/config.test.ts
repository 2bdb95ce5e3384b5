import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import { algorithmRecipes, decodeAlgorithmConfig, defaultAlgorithmConfig, type Algorithm } from "../src/index.ts"

const failure = (input: unknown) => Effect.runSync(Effect.flip(decodeAlgorithmConfig(input)))

describe("AlgorithmConfig", () => {
  test("defaults fill every knob", () => {
    expect(Effect.runSync(decodeAlgorithmConfig({}))).toEqual(defaultAlgorithmConfig)
    expect(defaultAlgorithmConfig.calibration).toBe("token-tis")
  })

  test("the default is the reference protocol", () => {
    expect(defaultAlgorithmConfig).toMatchObject({
      algorithm: "icrl",
      max_rounds: 2,
      critique_attempts: "failed",
      critic_reward: "success-or-gain",
      critic_source: "policy",
      transfer: "all",
      use_transfer_mask: true,
      transfer_mask_min_mean: 0.3,
      calibration_cap: 2,
      calibration_scope: "all",
      adv_group_key: "task-round-role",
      use_pseudo_reward: true,
      pseudo_reward: 1,
      role_loss_agg: "pooled",
      step_advantage_weight: 0,
    })
  })

  test("a recipe sets its knob defaults; explicit knobs win over them", () => {
    const decode = (input: Record<string, unknown>) => Effect.runSync(decodeAlgorithmConfig(input))
    for (const name of Object.keys(algorithmRecipes) as Array<Algorithm>) {
      expect(decode({ algorithm: name })).toEqual({ ...defaultAlgorithmConfig, ...algorithmRecipes[name], algorithm: name })
    }
    expect(decode({ algorithm: "grpo" }).max_rounds).toBe(1)
    expect(decode({ algorithm: "grpo", max_rounds: 3 }).max_rounds).toBe(3)
    expect(decode({ algorithm: "icrl-ungated", transfer: "success" })).toMatchObject({ transfer: "success", critique_attempts: "all", calibration_cap: 1 })
    // A saved config (every knob explicit) decodes to itself, whatever the recipe.
    const saved = decode({ algorithm: "critique-grpo", lr: 3e-5 })
    expect(decode({ ...saved })).toEqual(saved)
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
      [{ algorithm: "ppo" }, "algorithm"],
      [{ max_rounds: 0 }, "max_rounds"],
      [{ critique_attempts: "some" }, "critique_attempts"],
      [{ critic_source: "oracle" }, "critic_source"],
      [{ adv_group_key: "task" }, "adv_group_key"],
      [{ step_advantage_weight: -1 }, "step_advantage_weight"],
      [{ step_gamma: 0 }, "step_gamma"],
      [{ step_gamma: 1.5 }, "step_gamma"],
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
