import { describe, expect, test } from "bun:test"
import { Option } from "effect"
import { runSettings, warmstartSettingsOf } from "../src/runFlags.ts"

const none = { steps: Option.none<number>(), batch: Option.none<number>(), lr: Option.none<number>() }
const tuned = { trainingDefaults: { warmstart: { steps: 1200, batchSize: 8, lr: 6e-3 } } }
const global = { steps: runSettings.warmstartSteps.fallback, batchSize: runSettings.warmstartBatch.fallback, lr: runSettings.warmstartLr.fallback }

describe("warm-start settings: flag, then the environment's default, then the global one", () => {
  test("an environment without defaults gets the global ones", () => {
    expect(warmstartSettingsOf(none, {}, false)).toEqual(global)
    expect(warmstartSettingsOf(none, { trainingDefaults: { knobs: { lr: 1e-3 } } }, false)).toEqual(global)
  })

  test("an environment's defaults fill what is not given; what is given wins", () => {
    expect(warmstartSettingsOf(none, tuned, false)).toEqual({ steps: 1200, batchSize: 8, lr: 6e-3 })
    expect(warmstartSettingsOf({ ...none, batch: Option.some(4) }, tuned, false)).toEqual({ steps: 1200, batchSize: 4, lr: 6e-3 })
    expect(warmstartSettingsOf({ steps: Option.some(0), batch: Option.some(2), lr: Option.some(1e-2) }, tuned, false)).toEqual({ steps: 0, batchSize: 2, lr: 1e-2 })
    expect(warmstartSettingsOf(none, { trainingDefaults: { warmstart: { lr: 5e-3 } } }, false)).toEqual({ ...global, lr: 5e-3 })
  })

  test("a Hugging Face model gets no warm start unless steps are given", () => {
    expect(warmstartSettingsOf(none, tuned, true).steps).toBe(0)
    expect(warmstartSettingsOf({ ...none, steps: Option.some(7) }, tuned, true).steps).toBe(7)
  })
})
