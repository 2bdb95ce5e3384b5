import { describe, expect, test } from "bun:test"
import type { Trajectory, Turn } from "@icrl/core"
import { Effect } from "effect"
import fc from "fast-check"
import {
  decodeProjectionOptions,
  defaultProjection,
  formatCompletion,
  normalizeAction,
  parseAction,
  penalizedReward,
  renderAgentPrompt,
  renderTrajectory,
  summarizeAttempt,
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
    const prompt = renderAgentPrompt({
      task,
      observation: "You pick up the mug 1 from the cabinet 1.",
      history,
      admissibleActions: ["go to coffeemachine 1", "inventory"],
    })
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

  test("with guidance, shows the earlier attempt's actions and the critique", () => {
    const attempt = renderTrajectory(trajectory(history.slice(0, 2)))
    const prompt = renderAgentPrompt({
      task,
      observation: "start",
      history: [],
      guidance: { attempt, critique: "Missing: take the mug 1.\nThen put it in the coffeemachine 1." },
    })
    expect(prompt).toStartWith("Earlier attempt: go to cabinet 1; open cabinet 1\n")
    expect(prompt).toContain("Critique: Missing: take the mug 1. Then put it in the coffeemachine 1.\nTask: ")
    expect(prompt.indexOf("Critique:")).toBeLessThan(prompt.indexOf("Now:"))
    expect(renderAgentPrompt({ task, observation: "start", history: [] })).not.toContain("Critique:")
  })

  test("a prompt cut from the left keeps the task and the current state", () => {
    const options = { ...defaultProjection, history_length: 3 }
    const prompt = renderAgentPrompt({ task, observation: "You pick up the mug 1.", history, guidance: { attempt: "\n> look\nx", critique: "Take the mug." } }, options)
    const tail = prompt.slice(prompt.indexOf("Critique:"))
    expect(tail).toBe("Critique: Take the mug.\nTask: put a mug in coffeemachine.\nNow: You pick up the mug 1.\nReply <think>...</think><action>...</action>\n")
  })

  test("long observations are cut", () => {
    const options = { ...defaultProjection, observation_chars: 20 }
    const prompt = renderAgentPrompt({ task, observation: "x".repeat(100), history: [] }, options)
    expect(prompt).toContain(`Now: ${"x".repeat(17)}...\n`)
  })
})

describe("renderTrajectory", () => {
  test("lists actions and observations, never the reward", () => {
    const text = renderTrajectory(trajectory([turn("look", "You see a desk 1.", 0), turn("go to desk 1", "On the desk 1, you see a pen 1.", 1)], true))
    expect(text).toBe("\n> look\nYou see a desk 1.\n> go to desk 1\nOn the desk 1, you see a pen 1.")
    expect(text).not.toMatch(/reward|score|won/i)
  })

  test("collapses repeated steps and names missing actions", () => {
    const bad = { ...turn("", "Nothing happens."), actionValid: false }
    const text = renderTrajectory(trajectory([bad, bad, bad, turn("look", "ok")]))
    expect(text).toBe("\n> (no action)\nNothing happens.\n(repeated 2 more times)\n> look\nok")
    expect(renderTrajectory(trajectory([]))).toBe("\n(no actions)")
  })

  test("law: the attempt text stays within its budget and keeps the first and last steps", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.stringMatching(/^[a-z ]{1,30}$/), fc.string({ maxLength: 200 })), { minLength: 1, maxLength: 60 }), (steps) => {
        const turns = steps.map(([a, o], i) => turn(`${a} ${i}`, o))
        const text = renderTrajectory(trajectory(turns))
        expect(text.length).toBeLessThanOrEqual(defaultProjection.attempt_chars + 40)
        expect(text).toContain(`> ${turns[0]!.action}`)
      }),
      { numRuns: 200 },
    )
  })

  test("summarizeAttempt joins actions and counts repeats", () => {
    expect(summarizeAttempt("\n> look\nx\n> look\nx\n> go to desk 1\ny", 100)).toBe("look (x2); go to desk 1")
    expect(summarizeAttempt("free text\nwith lines", 100)).toBe("free text with lines")
    expect(summarizeAttempt("\n> abcdefghij\n", 8)).toBe("abcde...")
  })
})

describe("options and penalty", () => {
  test("decodeProjectionOptions fills defaults and names a bad field", () => {
    expect(Effect.runSync(decodeProjectionOptions({}))).toEqual(defaultProjection)
    expect(defaultProjection.history_length).toBe(2)
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
    expect(penalizedReward(1, true, 0.1)).toBe(1)
    expect(penalizedReward(0, false, 0.1)).toBe(-0.1)
    expect(penalizedReward(0, false, 0)).toBe(0)
  })
})
