/**
 * `math`: procedural arithmetic with graded difficulty and compact worked solutions.
 */
import { ConfigError, mixSeed, Rng, trySync, type EnvironmentPackage, type Split, type Task, type TaskOptions } from "@icrl/core"
import { answersMatch } from "./answersMatch.ts"
import { critiqueWorked } from "./critique.ts"
import { parseExpression, render } from "./Expression.ts"
import { extractAnswer } from "./extractAnswer.ts"
import { classify, generateProblem, parseDifficulty } from "./MathProblem.ts"
import { attemptOf, mixDemonstrations, renderPrompt, singleTurnEnvironment, singleTurnReward } from "./SingleTurn.ts"
import { distinctTasks, splitOf } from "./split.ts"
import { corruptSolution, corruptionKinds, formatWorked, solveProblem } from "./WorkedSolution.ts"
import type { Worked } from "./WorkedSolution.ts"

export interface MathTask extends Task {
  /** 1..5, a function of the problem text. */
  readonly level: number
  /** The exact answer ("85", "-35", "7/2"). */
  readonly answer: string
  readonly worked: Worked
  /** The expert completion, e.g. " 7+8=15; 4+3+1=8. Answer: 85". */
  readonly solution: string
}

const ID_PREFIX = "math:"

/**
 * The task for a canonical problem text, or undefined when the text is not a problem this
 * environment poses.
 *
 * @example
 * mathTask("47+38")?.solution // " 7+8=15; 4+3+1=8. Answer: 85"
 */
export const mathTask = (text: string): MathTask | undefined => {
  if (text.length > 64) return undefined
  const expr = parseExpression(text, { decimals: false, unaryMinus: false, maxDepth: 8, maxDigits: 8 })
  if (expr === undefined || render(expr) !== text) return undefined
  const level = classify(expr)
  if (level === undefined) return undefined
  const worked = solveProblem(expr)
  return { id: ID_PREFIX + text, split: splitOf(ID_PREFIX + text), text, level, answer: worked.answer, worked, solution: formatWorked(worked) }
}

const taskFromId = (id: string): MathTask | undefined => (id.startsWith(ID_PREFIX) ? mathTask(id.slice(ID_PREFIX.length)) : undefined)

const SPLIT_STREAM: Readonly<Record<Split, number>> = { train: 0x7a11, test: 0x7e57 }

/** The task at position `index` of a split's sequence: a pure function of (seed, split, levels, index). */
const taskAt = (seed: number, split: Split, levels: ReadonlyArray<number>, index: number): MathTask => {
  const rng = new Rng(mixSeed(seed, SPLIT_STREAM[split], index))
  for (;;) {
    const text = render(generateProblem(rng, rng.pick(levels)))
    if (splitOf(ID_PREFIX + text) !== split) continue
    const task = mathTask(text)
    if (task !== undefined) return task
  }
}

/**
 * `count` distinct tasks of a split, deterministic per (seed, offset, count, difficulty).
 * Position i draws from its own seeded stream; a problem repeated within one call is replaced
 * by the next position after the window.
 */
export const mathTasks = (split: Split, options: TaskOptions): Array<MathTask> => {
  const levels = parseDifficulty(options.options?.["difficulty"])
  return distinctTasks(options.count, options.offset ?? 0, (i) => taskAt(options.seed, split, levels, i))
}

/** The `math` reward: the answer read from the completion matches the task's exactly (1), or not (0). */
export const mathAnswerReward = singleTurnReward<MathTask>("math-answer", (task, completion) => {
  const answer = extractAnswer(completion)
  const won = answersMatch(answer, task.answer)
  return { reward: won ? 1 : 0, won, actionValid: answer !== undefined, ...(answer === undefined ? {} : { answer }) }
})

/**
 * The `math` environment package. Options: `difficulty` = a level 1..5, a range "1-3" or a list
 * "1,3" (default "1-2").
 */
export const mathEnvironment: EnvironmentPackage<MathTask> = {
  name: "math",
  description:
    "Procedural arithmetic, levels 1-5 (1: 1-2 digit +/-; 2: 3-digit +/-, x by one digit; 3: 4-digit, negatives, two operations; 4: 2x2-digit products, parentheses; 5: 3x2-digit products, three operations with division). Option difficulty=N|A-B|A,B (default 1-2: a small model is warm-started to about 65% there in minutes on a CPU and leaves RL room to improve).",
  kind: "single-turn",
  rewardRange: [0, 1],
  maxSteps: 1,
  maxTokens: { solver: 96, critic: 64 },
  tasks: (split, options) => trySync(() => mathTasks(split, options), [ConfigError]),
  make: (task) => singleTurnEnvironment("math", task, taskFromId, mathAnswerReward),
  reward: mathAnswerReward,
  renderPrompt,
  parseAction: (completion) => ({ action: completion, valid: true }),
  renderAttempt: (_task, trajectory) => attemptOf(trajectory),
  expert: (task) => [task.solution],
  referenceCritique: (task, trajectory) => critiqueWorked(task.worked, attemptOf(trajectory)),
  warmStart: (options) =>
    trySync(() => mathWarmStart(options), [ConfigError]),
}

const mathWarmStart = (options: TaskOptions) =>
  mixDemonstrations(mathTasks("train", options), options.count, options.seed, {
    expert: (task) => task.solution,
    corrupt: (task, rng) => {
      const expr = parseExpression(task.text)
      if (expr === undefined) return undefined
      for (const kind of rng.shuffle(corruptionKinds)) {
        const c = corruptSolution(expr, kind, rng)
        if (c !== undefined) return formatWorked(c.worked)
      }
      return undefined
    },
    critique: (task, attempt) => critiqueWorked(task.worked, attempt),
  })
