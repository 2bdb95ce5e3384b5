import { describe, expect, test } from "bun:test"
import { AlgorithmConfig, algorithmRecipes, defaultAlgorithmConfig } from "@icrl/core"
import { Effect, Exit, Option } from "effect"
import { algorithmConfigOf, knobArgs, shortNames } from "../src/algorithmFlags.ts"
import { FlagError } from "../src/flags.ts"
import { parseTrain, runCli } from "./cli.ts"

const keys = Object.keys(AlgorithmConfig.fields) as Array<keyof typeof defaultAlgorithmConfig>

describe("algorithm flags, derived from the AlgorithmConfig schema", () => {
  test("every config field is a flag under its verl name, and each given default round-trips to the default config", async () => {
    const args = keys.map((key) => `--${key}=${String(defaultAlgorithmConfig[key])}`)
    const { knobs } = await parseTrain(args)
    expect(Object.keys(knobs).sort()).toEqual([...keys].sort())
    for (const key of keys) expect(Option.isSome(knobs[key])).toBe(true)
    const { config } = await Effect.runPromise(algorithmConfigOf(knobs, Option.none()))
    expect(config).toEqual(defaultAlgorithmConfig)
  })

  test("a short name is an alias of the verl name", async () => {
    for (const [key, short] of Object.entries(shortNames)) {
      const value = String(defaultAlgorithmConfig[key as keyof typeof defaultAlgorithmConfig])
      const viaShort = await parseTrain([`--${short}=${value}`])
      const viaVerl = await parseTrain([`--${key}=${value}`])
      expect(viaShort.knobs).toEqual(viaVerl.knobs)
    }
    const { config } = await Effect.runPromise(algorithmConfigOf((await parseTrain(["--group-size", "8", "--clip-low", "0.1"])).knobs, Option.none()))
    expect(config.rollout_n).toBe(8)
    expect(config.clip_ratio_low).toBe(0.1)
  })

  test("a boolean knob is negated by its short name, as before", async () => {
    expect((await parseTrain(["--no-rolewise"])).knobs.rolewise_norm).toEqual(Option.some(false))
    expect((await parseTrain(["--rolewise_norm=false"])).knobs.rolewise_norm).toEqual(Option.some(false))
  })

  test("the given knobs become train arguments that parse back to the same knobs", async () => {
    const { knobs } = await parseTrain(["--rollout_n", "8", "--calibration", "none", "--no-rolewise", "--lr", "0.0003"])
    expect(knobArgs(knobs)).toEqual(["--calibration=none", "--lr=0.0003", "--rolewise_norm=false", "--rollout_n=8"])
    expect((await parseTrain(knobArgs(knobs))).knobs).toEqual(knobs)
  })

  test("a value the schema rejects is a FlagError naming both names of the flag", async () => {
    const exit = await Effect.runPromiseExit(algorithmConfigOf((await parseTrain(["--group-size", "0"])).knobs, Option.none()))
    expect(Exit.isFailure(exit)).toBe(true)
    const error = Exit.isFailure(exit) ? exit.cause : undefined
    expect(String(error)).toContain("--rollout_n (--group-size)")
    const failure = await Effect.runPromise(Effect.flip(algorithmConfigOf((await parseTrain(["--clip_ratio_low", "1.5"])).knobs, Option.none())))
    expect(failure).toBeInstanceOf(FlagError)
    expect(failure.message).toStartWith("--clip_ratio_low (--clip-low): ")
  })

  test("the recipe named by --algo fills the knobs not given; a knob given wins over its recipe", async () => {
    const config = async (args: Array<string>) => (await Effect.runPromise(algorithmConfigOf((await parseTrain(args)).knobs, Option.none()))).config
    const grpo = await config(["--algo", "grpo"])
    expect(grpo).toEqual({ ...defaultAlgorithmConfig, ...algorithmRecipes.grpo, algorithm: "grpo" })
    expect(grpo.max_rounds).toBe(1)
    expect((await config(["--algo", "grpo", "--max-rounds", "2"])).max_rounds).toBe(2)
    const ungated = await config(["--algorithm=icrl-ungated", "--calibration-cap", "3"])
    expect(ungated.critique_attempts).toBe("all")
    expect(ungated.calibration_cap).toBe(3)
    expect((await config(["--no-transfer-mask", "--no-pseudo-reward"])).use_transfer_mask).toBe(false)
    expect((await config(["--pseudo-reward-value", "0.5"])).pseudo_reward).toBe(0.5)
    expect(await config(["--step-weight", "1", "--step-gamma", "0.9"])).toMatchObject({ step_advantage_weight: 1, step_gamma: 0.9 })
  })

  test("a kl coefficient above 0 turns the KL term on unless use_kl_loss is given", async () => {
    const on = await Effect.runPromise(algorithmConfigOf((await parseTrain(["--kl-coef", "0.01"])).knobs, Option.none()))
    expect(on.config.use_kl_loss).toBe(true)
    const off = await Effect.runPromise(algorithmConfigOf((await parseTrain(["--kl-coef", "0.01", "--use_kl_loss=false"])).knobs, Option.none()))
    expect(off.config.use_kl_loss).toBe(false)
  })

  test("a knob the config does not have is no flag: train exits 2 naming it; --help lists both names of each knob", async () => {
    const unknown = await runCli(["train", "--env", "math", "--ppo_epochs", "2"])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("--ppo_epochs")
    const replaced = await runCli(["train", "--env", "math", "--critique_failed_only=true"])
    expect(replaced.code).toBe(2)
    expect(replaced.stderr).toContain("--critique_failed_only")
    const help = await runCli(["train", "--help"])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("--rollout_n, --group-size integer")
    expect(help.stdout).toContain("--clip_ratio_low, --clip-low number")
    expect(help.stdout).toContain("(default 4)")
    // A knob whose default differs by recipe names each recipe's.
    expect(help.stdout).toContain("--max_rounds, --max-rounds integer")
    expect(help.stdout).toContain("(default 2; grpo: 1)")
  })
})
