/**
 * The flags of a training run beyond the algorithm knobs, declared once: `train` reads them
 * with their defaults, `compare` passes the ones given on to every run it starts.
 */
import type { EnvironmentPackage } from "@icrl/core"
import { Option } from "effect"
import { Flag } from "effect/cli"
import { resolve } from "node:path"
import { Count, defaulted, optional, PositiveCount, PositiveNumber } from "./flags.ts"

/** A run setting: its flag name, the flag (typed and checked), the value `train` falls back to, and what it does. */
interface Setting {
  readonly name: string
  readonly flag: Flag.Flag<number>
  readonly fallback: number
  readonly description: string
}

const integer = (name: string, schema: typeof Count, fallback: number, description: string): Setting => ({
  name,
  flag: Flag.Int(name).pipe(Flag.withSchema(schema)),
  fallback,
  description,
})

/** The run settings that `compare` passes through to `train`. */
export const runSettings = {
  evalEvery: integer("eval-every", Count, 10, "evaluate every N steps (0: only start and end)"),
  evalTasks: integer("eval-tasks", PositiveCount, 200, "held-out tasks per evaluation"),
  passK: integer("pass-k", Count, 0, "samples per task for pass@k in the final evaluation"),
  evalRounds: integer("eval-rounds", PositiveCount, 3, "evaluations report success within k rounds for k up to this"),
  checkpointEvery: integer("checkpoint-every", Count, 10, "checkpoint every N steps"),
  warmstartSteps: integer("warmstart-steps", Count, 600, "warm-start SFT steps"),
  warmstartBatch: integer("warmstart-batch", PositiveCount, 32, "warm-start demonstrations per step"),
  warmstartLr: {
    name: "warmstart-lr",
    flag: Flag.Finite("warmstart-lr").pipe(Flag.withSchema(PositiveNumber)),
    fallback: 3e-3,
    description: "warm-start peak learning rate",
  },
} satisfies Record<string, Setting>

type SettingKey = keyof typeof runSettings

const eachSetting = <B>(f: (s: Setting) => B): { readonly [K in SettingKey]: B } =>
  Object.fromEntries(Object.entries(runSettings).map(([key, s]) => [key, f(s)])) as { readonly [K in SettingKey]: B }

/** The run settings with their defaults (for `train`). */
export const runSettingFlags = eachSetting((s) => defaulted(s.flag, s.fallback, s.description))

/** The warm-start settings as `train` reads them: absent means the environment's default, then the global one. */
export const warmstartSettingFlags = {
  warmstartSteps: optional(runSettings.warmstartSteps.flag, `${runSettings.warmstartSteps.description} (default: the environment's, else ${runSettings.warmstartSteps.fallback}; 0 for --model)`),
  warmstartBatch: optional(runSettings.warmstartBatch.flag, `${runSettings.warmstartBatch.description} (default: the environment's, else ${runSettings.warmstartBatch.fallback})`),
  warmstartLr: optional(runSettings.warmstartLr.flag, `${runSettings.warmstartLr.description} (default: the environment's, else ${runSettings.warmstartLr.fallback})`),
}

/**
 * The warm start of a run: each setting given, else the environment's training default, else the
 * global fallback. A Hugging Face model (`fromModel`) gets no warm start unless steps are given.
 *
 * @example
 * warmstartSettingsOf({ steps: Option.none(), batch: Option.some(4), lr: Option.none() }, household, false) // { steps: 2400, batchSize: 4, lr: 0.006 }
 */
export const warmstartSettingsOf = (
  given: { readonly steps: Option.Option<number>; readonly batch: Option.Option<number>; readonly lr: Option.Option<number> },
  env: Pick<EnvironmentPackage, "trainingDefaults">,
  fromModel: boolean,
): { readonly steps: number; readonly batchSize: number; readonly lr: number } => {
  const warm = env.trainingDefaults?.warmstart ?? {}
  return {
    steps: Option.getOrElse(given.steps, () => (fromModel ? 0 : (warm.steps ?? runSettings.warmstartSteps.fallback))),
    batchSize: Option.getOrElse(given.batch, () => warm.batchSize ?? runSettings.warmstartBatch.fallback),
    lr: Option.getOrElse(given.lr, () => warm.lr ?? runSettings.warmstartLr.fallback),
  }
}

/** The run settings as pass-through flags (for `compare`): absent means train's default. */
export const passedSettingFlags = eachSetting((s) => optional(s.flag, `${s.description} (train default ${s.fallback}${s.name.startsWith("warmstart") ? " or the environment's" : ""})`))

/** The flags naming files of a run: the knob file and the warm-start cache. */
export const runFileFlags = {
  config: optional(Flag.String("config"), "JSON file of algorithm knobs (verl-style names); flags override it"),
  cacheDir: optional(Flag.String("cache-dir"), "warm-start cache (default runs/.cache under the workspace)"),
}

/**
 * The settings and run files given, as `train` arguments (paths made absolute).
 *
 * @example
 * settingArgs({ evalTasks: Option.some(4), ... }, { config: Option.none(), cacheDir: Option.none() }) // ["--eval-tasks=4"]
 */
export const settingArgs = (
  settings: { readonly [K in SettingKey]: Option.Option<number> },
  files: { readonly config: Option.Option<string>; readonly cacheDir: Option.Option<string> },
): Array<string> => [
  ...Option.match(files.cacheDir, { onNone: () => [], onSome: (dir) => [`--cache-dir=${resolve(dir)}`] }),
  ...Option.match(files.config, { onNone: () => [], onSome: (path) => [`--config=${resolve(path)}`] }),
  ...Object.entries(runSettings).flatMap(([key, s]) =>
    Option.match(settings[key as SettingKey], { onNone: () => [], onSome: (value) => [`--${s.name}=${value}`] }),
  ),
]
