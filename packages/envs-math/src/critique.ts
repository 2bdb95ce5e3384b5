/**
 * Reference critiques: one short sentence that names the first wrong step and what is wrong with
 * it, or says the solution is correct. Used for warm-start data and as the external-critic
 * baseline, never by training itself.
 */
import { answersMatch } from "./answersMatch.ts"
import { evaluate, parseExpression } from "./Expression.ts"
import { extractAnswer } from "./extractAnswer.ts"
import * as Q from "./Rational.ts"
import type { Worked } from "./WorkedSolution.ts"

export const CORRECT_CRITIQUE = " The solution is correct."

export interface AttemptSteps {
  readonly steps: ReadonlyArray<string>
  /** The text after the last "Answer:", when there is one. */
  readonly answer: string | undefined
}

/**
 * Splits an attempt in the compact step format into its steps and answer line.
 *
 * @example
 * splitSteps(" 7+8=15; 4+3+1=8. Answer: 85") // { steps: ["7+8=15", "4+3+1=8"], answer: "85" }
 */
export const splitSteps = (attempt: string): AttemptSteps => {
  const text = attempt.length > 4000 ? attempt.slice(0, 4000) : attempt
  const m = /answer\s*:/gi
  let last = -1
  let lastLength = 0
  for (let hit = m.exec(text); hit !== null; hit = m.exec(text)) {
    last = hit.index
    lastLength = hit[0].length
  }
  const body = last < 0 ? text : text.slice(0, last)
  const answerLine = last < 0 ? undefined : (text.slice(last + lastLength).split("\n")[0] ?? "").trim().replace(/\.$/, "")
  const steps = body
    .replace(/[\s.]+$/, "")
    .split(/[;\n]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
  return { steps, answer: answerLine === "" ? undefined : answerLine }
}

const squash = (s: string): string => s.replace(/\s+/g, "")

const sides = (step: string): readonly [string, string] | undefined => {
  const eq = step.lastIndexOf("=")
  return eq < 0 ? undefined : [squash(step.slice(0, eq)), squash(step.slice(eq + 1))]
}

/** The first binary operator of a left-hand side (a leading minus sign is not one). */
const firstOperator = (lhs: string): string | undefined => /^-?[^-+*/]*([-+*/])/.exec(lhs)?.[1]

const shortAnswer = (s: string | undefined): string | undefined => (s === undefined || s.length > 16 ? undefined : s)

const answerCritique = (gold: string, predicted: string | undefined): string => {
  const shown = shortAnswer(predicted)
  return shown === undefined ? ` The answer should be ${gold}.` : ` The answer should be ${gold}, not ${shown}.`
}

const diagnoseStep = (k: number, attempt: string, expert: string): string => {
  const a = sides(attempt)
  const e = sides(expert)
  if (a === undefined || e === undefined) return ` Step ${k} should be ${expert}.`
  const [aL, aR] = a
  const [eL, eR] = e
  if (aL === eL) return ` Step ${k} is wrong: ${eL} is ${eR}, not ${aR}.`
  const carry = /^(\d{1,2}[-+*]\d)([-+])(\d)$/.exec(eL)
  if (carry !== null && carry[1] === aL) {
    return ` Step ${k} is wrong: it drops the ${carry[2] === "-" ? "borrow" : "carry"}.`
  }
  if (eL === `1${aL}`) return ` Step ${k} is wrong: borrow first, ${eL}=${eR}.`
  const opA = firstOperator(aL)
  const opE = firstOperator(eL)
  if (opA !== undefined && opE !== undefined && opA !== opE) return ` Step ${k} is wrong: use ${opE} not ${opA}.`
  const lhs = parseExpression(aL)
  const rhs = parseExpression(aR)
  const lv = lhs === undefined ? undefined : evaluate(lhs)
  const rv = rhs === undefined ? undefined : evaluate(rhs)
  if (lv !== undefined && rv !== undefined && !Q.equals(lv, rv)) return ` Step ${k} is wrong: ${aL} is ${Q.toText(lv)}, not ${aR}.`
  return ` Step ${k} should be ${expert}.`
}

/**
 * The reference critique of an attempt in the compact step format against the expert solution.
 *
 * @example
 * critiqueWorked({ steps: ["7+8=15", "4+3+1=8"], answer: "85" }, " 7+8=15; 4+3+1=9. Answer: 95")
 * // " Step 2 is wrong: 4+3+1 is 8, not 9."
 */
export const critiqueWorked = (expert: Worked, attempt: string): string => {
  if (answersMatch(extractAnswer(attempt), expert.answer)) return CORRECT_CRITIQUE
  const parsed = splitSteps(attempt)
  for (let i = 0; i < expert.steps.length; i++) {
    const e = expert.steps[i] as string
    const a = parsed.steps[i]
    if (a === undefined) return ` Step ${i + 1} is missing: ${e}.`
    if (squash(a) !== squash(e)) return diagnoseStep(i + 1, a, e)
  }
  return answerCritique(expert.answer, parsed.answer ?? extractAnswer(attempt))
}

// ---------------------------------------------------------------------------------------------
// Free-text solutions (GSM8K / MATH style): check every written calculation.

export interface WrongCalculation {
  /** 1-based index among the non-empty lines of the attempt. */
  readonly line: number
  readonly lhs: string
  readonly value: Q.Rational
  readonly written: string
}

const LHS_CHARS = /[0-9.,+\-*/×÷()$ \u2212]/
const RHS = /^\s*\$?\s*(-?\d+(?:,\d{3})*(?:\.\d+)?)(?![\d,]*\d)/

/** A rational from a written number like "1,234.5" or "-3". */
const writtenValue = (s: string): Q.Rational | undefined => {
  const negative = s.startsWith("-")
  const v = Q.fromDecimal((negative ? s.slice(1) : s).replace(/,/g, ""))
  return v === undefined ? undefined : negative ? Q.negate(v) : v
}

/** Written results with decimals may be rounded: accept within half a unit of the last place. */
const closeEnough = (value: Q.Rational, written: string): boolean => {
  const w = writtenValue(written)
  if (w === undefined) return true
  if (Q.equals(value, w)) return true
  const point = written.indexOf(".")
  if (point < 0) return false
  const places = written.length - point - 1
  const diff = Q.sub(value, w)
  const scaled = Q.mul(diff, Q.fromInt(2n * 10n ** BigInt(places)))
  return (scaled.num < 0n ? -scaled.num : scaled.num) <= scaled.den
}

export interface Calculation {
  /** The expression as written, without "$". */
  readonly lhs: string
  readonly value: Q.Rational
  /** The number written after "=". */
  readonly written: string
  /** Where the written number starts and ends in the line. */
  readonly start: number
  readonly end: number
  readonly correct: boolean
}

/**
 * Every checkable calculation "expression = number" in one line of free text.
 *
 * @example
 * scanCalculations("She makes 9 * 2 = $18 a day.")[0] // { lhs: "9 * 2", written: "18", correct: true, ... }
 */
export const scanCalculations = (line: string): Array<Calculation> => {
  const out: Array<Calculation> = []
  let eq = line.indexOf("=")
  while (eq >= 0 && out.length < 64) {
    let start = eq
    while (start > 0 && eq - start < 200 && LHS_CHARS.test(line.charAt(start - 1))) start--
    const lhsRaw = line.slice(start, eq).replace(/\$/g, "").trim()
    const rhs = RHS.exec(line.slice(eq + 1))
    if (rhs !== null && /\d\s*[-+*/×÷\u2212]\s*[\d(]/.test(lhsRaw)) {
      const expr = parseExpression(lhsRaw, { thousands: true, maxLength: 200 })
      const value = expr === undefined ? undefined : evaluate(expr)
      const written = rhs[1] as string
      if (value !== undefined) {
        const numberEnd = eq + 1 + rhs[0].length
        out.push({ lhs: lhsRaw, value, written, start: numberEnd - written.length, end: numberEnd, correct: closeEnough(value, written) })
      }
    }
    eq = line.indexOf("=", eq + 1)
  }
  return out
}

/**
 * The first calculation "expression = number" in a free-text solution whose arithmetic is
 * wrong, or undefined when every checkable calculation is right.
 *
 * @example
 * firstWrongCalculation("She sells 16 - 3 - 4 = 10 eggs.")?.value // 9
 */
export const firstWrongCalculation = (attempt: string): WrongCalculation | undefined => {
  const lines = attempt
    .slice(0, 20_000)
    .split("\n")
    .filter((l) => l.trim().length > 0)
  for (let li = 0; li < lines.length; li++) {
    const wrong = scanCalculations(lines[li] as string).find((c) => !c.correct)
    if (wrong !== undefined) return { line: li + 1, lhs: wrong.lhs, value: wrong.value, written: wrong.written }
  }
  return undefined
}

/** Renders a rational for a critique: an integer, else a short decimal when exact, else a/b. */
export const showValue = (v: Q.Rational): string => {
  if (Q.isInteger(v)) return v.num.toString()
  for (let places = 1; places <= 4; places++) {
    const scaled = Q.mul(v, Q.fromInt(10n ** BigInt(places)))
    if (Q.isInteger(scaled)) {
      const neg = scaled.num < 0n
      const digits = (neg ? -scaled.num : scaled.num).toString().padStart(places + 1, "0")
      return `${neg ? "-" : ""}${digits.slice(0, -places)}.${digits.slice(-places)}`
    }
  }
  return Q.toText(v)
}

/**
 * The reference critique of a free-text solution: the first wrong calculation, else a wrong
 * final answer, else "correct".
 *
 * @example
 * critiqueFreeText("16 - 3 - 4 = 10\nAnswer: 20", "18") // " Step 1 is wrong: 16 - 3 - 4 is 9, not 10."
 */
export const critiqueFreeText = (attempt: string, gold: string): string => {
  const predicted = extractAnswer(attempt)
  if (answersMatch(predicted, gold)) return CORRECT_CRITIQUE
  const wrong = firstWrongCalculation(attempt)
  if (wrong !== undefined) return ` Step ${wrong.line} is wrong: ${wrong.lhs} is ${showValue(wrong.value)}, not ${wrong.written}.`
  return answerCritique(gold, predicted)
}
