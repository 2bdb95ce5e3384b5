/**
 * Household tasks: deterministic per (split, seed, index), with the train and test splits
 * partitioned by world seed so that no world appears in both.
 */
import { ConfigError, mixSeed, type Split, type Task, type TaskOptions } from "@icrl/core"
import { type AgenticLevel, agenticLevel } from "../level.ts"
import { generateLayout, type HouseholdLayout } from "./layout.ts"
import { type HouseholdSize, householdSizes, type HouseholdTaskType, householdTaskTypes } from "./vocabulary.ts"

/** A household task: the world is regenerated from `type`, `worldSeed` and `size`. */
export interface HouseholdTask extends Task {
  readonly type: HouseholdTaskType
  readonly worldSeed: number
  readonly size: HouseholdSize
}

/** The split a world seed belongs to: one in five seeds is a test world. */
export const householdSplitOf = (worldSeed: number): Split => (mixSeed(worldSeed, 0x5bd1e995) % 5 === 0 ? "test" : "train")

const layoutCache = new Map<string, HouseholdLayout>()
const layoutCacheLimit = 8192

/**
 * The layout of a task (cached).
 *
 * @example
 * householdLayout(task).goal === task.text // true
 */
export const householdLayout = (task: Pick<HouseholdTask, "type" | "worldSeed" | "size">): HouseholdLayout => {
  const key = `${task.size}/${task.type}/${task.worldSeed}`
  let layout = layoutCache.get(key)
  if (layout === undefined) {
    layout = generateLayout(task.type, task.worldSeed, task.size)
    if (layoutCache.size >= layoutCacheLimit) layoutCache.clear()
    layoutCache.set(key, layout)
  }
  return layout
}

const makeTask = (type: HouseholdTaskType, worldSeed: number, size: HouseholdSize): HouseholdTask => {
  const layout = householdLayout({ type, worldSeed, size })
  return { id: `household/${size}/${type}/${worldSeed}`, split: householdSplitOf(worldSeed), text: layout.goal, type, worldSeed, size }
}

/**
 * Rebuilds a task from its id (`household/<size>/<type>/<worldSeed>`); undefined when malformed.
 *
 * @example
 * householdTaskFromId("household/small/clean/12345")?.type // "clean"
 */
export const householdTaskFromId = (id: string): HouseholdTask | undefined => {
  const parts = id.split("/")
  if (parts.length !== 4 || parts[0] !== "household") return undefined
  const size = parts[1]
  const type = parts[2] as HouseholdTaskType
  const seedText = parts[3] ?? ""
  if (!householdSizes.includes(size as HouseholdSize)) return undefined
  if (!householdTaskTypes.includes(type)) return undefined
  if (!/^\d{1,10}$/.test(seedText)) return undefined
  const worldSeed = Number(seedText)
  if (worldSeed > 0xffffffff) return undefined
  return makeTask(type, worldSeed, size as HouseholdSize)
}

/**
 * What each difficulty level generates. 1: pick-and-place in single rooms (two receptacles: the
 * goal object's and the target; four steps, each one following from the prompt); 2: all six task
 * types in tiny rooms; 3: all six in small rooms.
 */
export const householdLevels: Readonly<Record<AgenticLevel, { readonly types: ReadonlyArray<HouseholdTaskType>; readonly size: HouseholdSize }>> = {
  1: { types: ["pick"], size: "single" },
  2: { types: householdTaskTypes, size: "tiny" },
  3: { types: householdTaskTypes, size: "small" },
}

/** The task options household understands. */
export const householdOptionKeys: ReadonlyArray<string> = ["difficulty", "type", "size"]

/** Task-generation knobs read from `TaskOptions.options`. */
export interface HouseholdTaskKnobs {
  /** Task types, cycled through by task index. */
  readonly types: ReadonlyArray<HouseholdTaskType>
  readonly size: HouseholdSize
}

/**
 * Reads `difficulty` (1, 2 or 3; default 1) and the overrides `type` (one task type, or "all")
 * and `size` (single, tiny, small or full) from the options, failing with a ConfigError that names the
 * bad key.
 *
 * @example
 * householdKnobs({ difficulty: "3", type: "heat" }) // { types: ["heat"], size: "small" }
 */
export const householdKnobs = (options: Readonly<Record<string, string>> | undefined): HouseholdTaskKnobs => {
  for (const key of Object.keys(options ?? {})) {
    if (!householdOptionKeys.includes(key)) throw new ConfigError({ field: key, detail: `unknown household option; known: ${householdOptionKeys.join(", ")}` })
  }
  const level = householdLevels[agenticLevel("household", options)]
  const typeText = options?.["type"]
  const sizeText = options?.["size"] ?? level.size
  if (typeText !== undefined && typeText !== "all" && !householdTaskTypes.includes(typeText as HouseholdTaskType)) {
    throw new ConfigError({ field: "type", detail: `"${typeText}" is not one of all, ${householdTaskTypes.join(", ")}` })
  }
  if (!householdSizes.includes(sizeText as HouseholdSize)) {
    throw new ConfigError({ field: "size", detail: `"${sizeText}" is not one of ${householdSizes.join(", ")}` })
  }
  const types = typeText === undefined ? level.types : typeText === "all" ? householdTaskTypes : [typeText as HouseholdTaskType]
  return { types, size: sizeText as HouseholdSize }
}

/**
 * The tasks of a split: task i has type `types[i % types.length]` (the level's types, or the
 * requested type) and the first world seed derived from (seed, i) that belongs to the split.
 *
 * @example
 * householdTasks("train", { seed: 0, count: 6, options: { difficulty: "3" } }).map((t) => t.type)
 * // ["pick", "clean", "heat", "cool", "look", "pick-two"]
 */
export const householdTasks = (split: Split, options: TaskOptions): Array<HouseholdTask> => {
  const knobs = householdKnobs(options.options)
  const offset = options.offset ?? 0
  const out: Array<HouseholdTask> = []
  for (let i = offset; i < offset + options.count; i++) {
    const type = knobs.types[i % knobs.types.length]!
    for (let k = 0; ; k++) {
      const worldSeed = mixSeed(options.seed, i, k, householdTaskTypes.indexOf(type))
      if (householdSplitOf(worldSeed) === split) {
        out.push(makeTask(type, worldSeed, knobs.size))
        break
      }
    }
  }
  return out
}
