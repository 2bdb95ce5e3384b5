import { describe, expect, test } from "bun:test"
import type { Trajectory, Turn } from "@icrl/core"
import { Effect } from "effect"
import fc from "fast-check"
import {
  agenticRewardRange,
  decodeProjectionOptions,
  defaultProjection,
  formatCompletion,
  normalizeAction,
  parseAction,
  penalizedReward,
  renderAgentPrompt,
  renderTrajectory,
} from "../src/index.ts"

const task = { id: "t1", split: "train" as const, text: "put a mug in coffeemachine." }
const turn = (action: string, observation: string, reward = 0): Turn => ({
  prompt: "p",
  completion: formatCompletion("", action),
  action,
  actionValid: true,
  observation,
  reward,
})
const trajectory = (turns: ReadonlyArray<Turn>, won = false): Trajectory => ({
  taskId: "t1",
  turns,
  totalReward: turns.reduce((s, t) => s + t.reward, 0),
  won,
  score: won ? 1 : 0,
  terminated: won,
  truncated: false,
})

describe("parseAction", () => {
  test("extracts and normalizes the first <action> pair", () => {
    expect(parseAction("<think>find</think><action>Go to  Fridge 1</action>\n\n")).toEqual({ action: "go to fridge 1", valid: true })
    expect(parseAction("<action>look</action><action>inventory</action>")).toEqual({ action: "look", valid: true })
    expect(parseAction("<think></think><action> click[Buy Now] </action>")).toEqual({ action: "click[buy now]", valid: true })
  })

  test("a missing tag, a missing close tag or an empty action is invalid", () => {
    for (const text of ["go to fridge 1", "<action>go to fridge 1", "<action></action>", "<action>   </action>", "", "</action><action>"]) {
      expect(parseAction(text)).toEqual({ action: "", valid: false })
    }
    expect(parseAction(`<action>${"a".repeat(300)}</action>`).valid).toBe(false)
  })

  test("law: parsing never throws and an invalid parse has an empty action", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 300 }), (text) => {
        const parsed = parseAction(text)
        expect(typeof parsed.action).toBe("string")
        if (!parsed.valid) expect(parsed.action).toBe("")
      }),
      { numRuns: 500 },
    )
  })

  test("law: formatCompletion then parseAction gives back the normalized action", () => {
    const word = fc.stringMatching(/^[a-zA-Z0-9\[\]<> ]{1,40}$/)
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }).filter((t) => !t.includes("<")), word, (think, action) => {
        const parsed = parseAction(formatCompletion(think, action))
        const expected = normalizeAction(action)
        if (expected.length === 0 || expected.includes("</action>")) return
        expect(parsed).toEqual({ action: expected, valid: true })
      }),
      { numRuns: 300 },
    )
  })

  test("law: normalization is idempotent", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        expect(normalizeAction(normalizeAction(s))).toBe(normalizeAction(s))
      }),
    )
  })
})

describe("renderAgentPrompt", () => {
  const history = [
    turn("go to cabinet 1", "The cabinet 1 is closed."),
    turn("open cabinet 1", "You open the cabinet 1. The cabinet 1 is open. In it, you see a mug 1."),
    turn("take mug 1 from cabinet 1", "You pick up the mug 1 from the cabinet 1."),
  ]

  test("shows the last K actions, the task, the current observation, the actions and the format, in that order", () => {
    const prompt = renderAgentPrompt(
      {
        task,
        observation: "You pick up the mug 1 from the cabinet 1.",
        history,
        admissibleActions: ["go to coffeemachine 1", "inventory"],
      },
      { ...defaultProjection, history_length: 2 },
    )
    expect(prompt).toBe(
      [
        "Recent (3 steps taken):",
        "> open cabinet 1",
        "You open the cabinet 1. The cabinet 1 is open. In it, you see a mug 1.",
        "> take mug 1 from cabinet 1",
        "Task: put a mug in coffeemachine.",
        "Now: You pick up the mug 1 from the cabinet 1.",
        "Actions: go to coffeemachine 1, inventory",
        "Reply <think>...</think><action>...</action>",
        "",
      ].join("\n"),
    )
  })

  test("law: exactly min(K, history) past actions are shown", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 3 }), (k, n) => {
        const options = { ...defaultProjection, history_length: k }
        const prompt = renderAgentPrompt({ task, observation: "obs", history: history.slice(0, n) }, options)
        expect(prompt.split("\n").filter((l) => l.startsWith("> ")).length).toBe(Math.min(k, n))
      }),
    )
  })

  test("on a retry, shows only the critique's tips, between the task and the observation", () => {
    const attempt = renderTrajectory(trajectory(history.slice(0, 2)), defaultProjection, { reward: 0 })
    const critique = "Missing: you never took the mug. <critic>Tip 1: Take the mug 1.\nTip 2: Put it in the coffeemachine 1.</critic>"
    const prompt = renderAgentPrompt({ task, observation: "start", history: [], guidance: { attempt, critique } })
    expect(prompt).toBe(
      "Task: put a mug in coffeemachine.\nTip 1: Take the mug 1. Tip 2: Put it in the coffeemachine 1.\nNow: start\nReply <think>...</think><action>...</action>\n",
    )
    expect(prompt).not.toContain("Missing")
    expect(prompt).not.toContain("open cabinet 1")
    // A critique without a <critic> block is shown whole.
    const plain = renderAgentPrompt({ task, observation: "start", history: [], guidance: { attempt, critique: "look in the cabinet" } })
    expect(plain).toContain("Task: put a mug in coffeemachine.\nlook in the cabinet\nNow: start\n")
  })

  test("a prompt cut from the left keeps the task, the tips and the current state", () => {
    const options = { ...defaultProjection, history_length: 3 }
    const prompt = renderAgentPrompt({ task, observation: "You pick up the mug 1.", history, guidance: { attempt: "\n> look\nx", critique: "<critic>Tip 1: Take the mug.</critic>" } }, options)
    const tail = prompt.slice(prompt.indexOf("Task:"))
    expect(tail).toBe("Task: put a mug in coffeemachine.\nTip 1: Take the mug.\nNow: You pick up the mug 1.\nReply <think>...</think><action>...</action>\n")
  })

  test("law: a prompt over prompt_chars gives up its history, then the end of its observation, and keeps the rest", () => {
    const words = fc.stringMatching(/^[a-z]{1,8}( [a-z]{1,8}){0,40}$/)
    fc.assert(
      fc.property(words, fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.integer({ min: 0, max: 600 }), (observation, n, retry, limit) => {
        const context = {
          task,
          observation,
          history: history.slice(0, n),
          admissibleActions: ["look", "inventory"],
          ...(retry ? { guidance: { attempt: "\n> look\nx", critique: "<critic>Tip 1: Take the mug.</critic>" } } : {}),
        }
        const whole = renderAgentPrompt(context, { ...defaultProjection, prompt_chars: 0 })
        const prompt = renderAgentPrompt(context, { ...defaultProjection, prompt_chars: limit })
        if (limit === 0 || whole.length <= limit) return expect(prompt).toBe(whole)
        expect(prompt).not.toContain("Recent (")
        const rest = whole.slice(whole.indexOf("Task:"))
        const [before, after] = rest.split(/Now: [^\n]*\n/)
        expect(prompt).toStartWith(before!)
        expect(prompt).toEndWith(after!)
        const shown = prompt.slice(before!.length + "Now: ".length, prompt.length - after!.length - 1)
        // The observation whole, or its start with "..." (or only its first 3 characters when nothing else fits).
        expect(shown === observation || (shown.endsWith("...") && observation.startsWith(shown.slice(0, -3))) || (shown.length === 3 && observation.startsWith(shown))).toBe(true)
        // Within the limit whenever the task, tips, actions and format line fit with a 3-character observation.
        if (before!.length + after!.length + "Now: ...\n".length <= limit) expect(prompt.length).toBeLessThanOrEqual(limit)
      }),
      { numRuns: 300 },
    )
  })

  test("long observations are cut", () => {
    const options = { ...defaultProjection, observation_chars: 20 }
    const prompt = renderAgentPrompt({ task, observation: "x".repeat(100), history: [] }, options)
    expect(prompt).toContain(`Now: ${"x".repeat(17)}...\n`)
  })
})

describe("renderTrajectory", () => {
  test("lists the header, actions and observations, then the reward", () => {
    const steps = [turn("look", "You see a desk 1.", 0), turn("go to desk 1", "On the desk 1, you see a pen 1.", 1)]
    expect(renderTrajectory(trajectory(steps, true), defaultProjection, { reward: 1, header: "Room: desk 1" })).toBe(
      "\nRoom: desk 1\n> look\nYou see a desk 1.\n> go to desk 1\nOn the desk 1, you see a pen 1.\nReward: 1",
    )
    expect(renderTrajectory(trajectory(steps), defaultProjection, { reward: 0.4567 })).toEndWith("\nReward: 0.46")
  })

  test("collapses repeated steps and names missing actions", () => {
    const bad = { ...turn("", "Nothing happens."), actionValid: false }
    const text = renderTrajectory(trajectory([bad, bad, bad, turn("look", "ok")]), defaultProjection, { reward: 0 })
    expect(text).toBe("\n> (no action)\nNothing happens.\n(repeated 2 more times)\n> look\nok\nReward: 0")
    expect(renderTrajectory(trajectory([]), defaultProjection, { reward: 0 })).toBe("\n(no actions)\nReward: 0")
  })

  test("law: the attempt text stays within its budget and keeps the first step and the reward", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.stringMatching(/^[a-z ]{1,30}$/), fc.string({ maxLength: 200 })), { minLength: 1, maxLength: 60 }),
        fc.string({ maxLength: 400 }),
        (steps, header) => {
          const turns = steps.map(([a, o], i) => turn(`${a} ${i}`, o))
          const text = renderTrajectory(trajectory(turns), defaultProjection, { reward: 0, header })
          const room = 2 * defaultProjection.attempt_observation_chars + 1
          expect(text.length).toBeLessThanOrEqual(room + defaultProjection.attempt_chars + 40 + "\nReward: 0".length)
          expect(text).toContain(`> ${turns[0]!.action}`)
          expect(text).toEndWith("\nReward: 0")
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe("options and penalty", () => {
  test("decodeProjectionOptions fills defaults and names a bad field", () => {
    expect(Effect.runSync(decodeProjectionOptions({}))).toEqual(defaultProjection)
    expect(defaultProjection.history_length).toBe(1)
    expect(Effect.runSync(decodeProjectionOptions({ history_length: 4 })).history_length).toBe(4)
    for (const [input, field] of [
      [{ history_length: -1 }, "history_length"],
      [{ invalid_action_penalty: "big" }, "invalid_action_penalty"],
      [{ nope: 1 }, "nope"],
    ] as const) {
      const error = Effect.runSync(Effect.flip(decodeProjectionOptions(input)))
      expect(error._tag).toBe("ConfigError")
      expect(error.field).toBe(field)
    }
  })

  test("the invalid-action penalty applies to invalid steps only", () => {
    expect(agenticRewardRange({ invalid_action_penalty: 0.1 })).toEqual([-0.1, 1])
    expect(Object.is(agenticRewardRange({ invalid_action_penalty: 0 })[0], 0)).toBe(true)
    expect(penalizedReward(1, true, 0.1)).toBe(1)
    expect(penalizedReward(0, false, 0.1)).toBe(-0.1)
    expect(penalizedReward(0, false, 0)).toBe(0)
  })
})
