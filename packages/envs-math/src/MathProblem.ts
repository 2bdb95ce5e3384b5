/**
 * Procedural arithmetic problems with graded difficulty.
 *
 * Levels (a problem's level is a pure function of its text, see {@link classify}):
 * 1. one- and two-digit addition and subtraction with a non-negative result ("47+38", "9-4");
 * 2. three-digit addition and subtraction, and multiplication of a one- or two-digit number by
 *    a one-digit number ("478+356", "47*3");
 * 3. four-digit addition and subtraction, subtraction with a negative result, three-digit times
 *    one-digit, and two operations without parentheses ("1234+5678", "17-52", "12-5*3");
 * 4. two-digit times two-digit, and two operations with parentheses ("47*38", "(12-5)*3");
 * 5. three-digit times two-digit, and three operations with parentheses and exact division
 *    ("478*56", "(84/7+5)*3").
 */
import { ConfigError, type Rng } from "@icrl/core"
import { literals, operatorCount, render } from "./Expression.ts"
import type { Expr, Operator } from "./Expression.ts"
import * as Q from "./Rational.ts"

export const MAX_LEVEL = 5

/** The levels used when no difficulty is given: a small model warm-starts to about 65% on them in a few CPU minutes, which leaves RL room to improve. */
export const DEFAULT_LEVELS: ReadonlyArray<number> = [1, 2]

const num = (n: number): Expr => ({ kind: "num", value: Q.fromInt(n), text: String(n) })
const bin = (op: Operator, left: Expr, right: Expr): Expr => ({ kind: "bin", op, left, right })

/** A number with 1..maxDigits digits, the digit count chosen uniformly. */
const withDigits = (rng: Rng, minDigits: number, maxDigits: number): number => {
  const d = rng.range(minDigits, maxDigits)
  return d === 1 ? rng.range(0, 9) : rng.range(10 ** (d - 1), 10 ** d - 1)
}

const addOrSub = (rng: Rng, big: number, other: number, op: "+" | "-"): Expr => {
  if (op === "-") return bin("-", num(Math.max(big, other)), num(Math.min(big, other)))
  return rng.chance(0.5) ? bin("+", num(big), num(other)) : bin("+", num(other), num(big))
}

/** A random expression tree with `ops` operators over operands in [1, maxOperand]. */
const randomTree = (rng: Rng, ops: number, operators: ReadonlyArray<Operator>, maxOperand: number): Expr => {
  if (ops === 0) return num(rng.range(1, maxOperand))
  const leftOps = rng.range(0, ops - 1)
  const op = rng.pick(operators)
  if (op === "/" && ops > 1) return bin("/", randomTree(rng, ops - 1, operators, maxOperand), num(rng.range(2, 9)))
  if (op === "/") {
    // Exact division: build the divisor, then a dividend that is a multiple of it.
    const divisor = rng.range(2, 12)
    const quotient = rng.range(1, 12)
    return bin("/", num(divisor * quotient), num(divisor))
  }
  return bin(op, randomTree(rng, leftOps, operators, maxOperand), randomTree(rng, ops - 1 - leftOps, operators, maxOperand))
}

/** Whether every intermediate value is an integer within ±limit (plain numbers: operands are small). */
const intermediatesOk = (expr: Expr, limit: number): boolean => {
  const walk = (e: Expr): number => {
    if (e.kind === "num") return Number(e.value.num)
    if (e.kind === "neg") return Number.NaN
    const a = walk(e.left)
    const b = walk(e.right)
    const v = e.op === "+" ? a + b : e.op === "-" ? a - b : e.op === "*" ? a * b : b === 0 ? Number.NaN : a / b
    return Number.isInteger(v) && Math.abs(v) <= limit ? v : Number.NaN
  }
  return !Number.isNaN(walk(expr))
}

/** A multi-operation expression whose text has (or lacks) parentheses, by rejection sampling. */
const multiOp = (rng: Rng, ops: number, operators: ReadonlyArray<Operator>, maxOperand: number, parens: boolean, limit: number): Expr => {
  for (let attempt = 0; attempt < 200; attempt++) {
    const tree = randomTree(rng, ops, operators, maxOperand)
    if (operatorCount(tree) !== ops || !intermediatesOk(tree, limit)) continue
    if (render(tree).includes("(") !== parens) continue
    return tree
  }
  // Rejection sampling failed (vanishingly rare): fall back to a fixed shape with the right structure.
  const a = rng.range(2, 9)
  const b = rng.range(2, 9)
  const c = rng.range(2, 9)
  if (ops === 2) return parens ? bin("*", bin("+", num(a), num(b)), num(c)) : bin("+", num(a), bin("*", num(b), num(c)))
  return bin("-", bin("*", bin("+", num(a), num(b)), num(c)), num(rng.range(1, 9)))
}

/**
 * A random problem of the given level, as an expression tree (its rendered text is the problem).
 *
 * @example
 * render(generateProblem(new Rng(1), 1)) // e.g. "47+38"
 */
export const generateProblem = (rng: Rng, level: number): Expr => {
  switch (level) {
    case 1: {
      const op = rng.pick(["+", "-"] as const)
      return addOrSub(rng, withDigits(rng, 1, 2), withDigits(rng, 1, 2), op)
    }
    case 2: {
      if (rng.chance(1 / 3)) return bin("*", num(rng.chance(0.3) ? rng.range(2, 9) : rng.range(10, 99)), num(rng.range(2, 9)))
      return addOrSub(rng, rng.range(100, 999), withDigits(rng, 1, 3), rng.pick(["+", "-"] as const))
    }
    case 3: {
      const kind = rng.range(0, 3)
      if (kind === 0) return addOrSub(rng, rng.range(1000, 9999), withDigits(rng, 1, 4), rng.pick(["+", "-"] as const))
      if (kind === 1) {
        const a = withDigits(rng, 1, 3)
        let b = withDigits(rng, 2, 3)
        if (b <= a) b = a + rng.range(1, 99)
        return bin("-", num(a), num(b))
      }
      if (kind === 2) return bin("*", num(rng.range(100, 999)), num(rng.range(2, 9)))
      return multiOp(rng, 2, ["+", "-", "*"], 20, false, 1000)
    }
    case 4:
      if (rng.chance(0.5)) return bin("*", num(rng.range(10, 99)), num(rng.range(10, 99)))
      return multiOp(rng, 2, ["+", "-", "*"], 20, true, 1000)
    default:
      if (rng.chance(0.4)) return bin("*", num(rng.range(100, 999)), num(rng.range(10, 99)))
      return multiOp(rng, 3, ["+", "-", "*", "/"], 20, true, 2000)
  }
}

/**
 * The level of a problem, or undefined when the text is not a problem this environment poses
 * (no operator, unary minus, non-integer or huge literals).
 *
 * @example
 * classify(parseExpression("(12-5)*3")!) // 4
 */
export const classify = (expr: Expr): number | undefined => {
  const ops = operatorCount(expr)
  if (ops === 0 || ops > 6) return undefined
  const lits = literals(expr)
  let hasNeg = false
  const walk = (e: Expr): void => {
    if (e.kind === "neg") hasNeg = true
    else if (e.kind === "bin") {
      walk(e.left)
      walk(e.right)
    }
  }
  walk(expr)
  if (hasNeg || lits.some((v) => !Q.isInteger(v) || v.num > 9_999_999n)) return undefined
  const text = render(expr)
  if (ops === 1 && expr.kind === "bin") {
    const a = Number((lits[0] as Q.Rational).num)
    const b = Number((lits[1] as Q.Rational).num)
    const max = Math.max(a, b)
    switch (expr.op) {
      case "+":
        return max <= 99 ? 1 : max <= 999 ? 2 : 3
      case "-":
        return a < b ? 3 : max <= 99 ? 1 : max <= 999 ? 2 : 3
      case "*":
        if (Math.min(a, b) <= 9) return max <= 99 ? 2 : 3
        return max <= 99 ? 4 : 5
      case "/":
        return 4
    }
  }
  if (ops === 2 && !text.includes("/")) return text.includes("(") ? 4 : 3
  return 5
}

/**
 * Parses a `difficulty` option: a level ("2"), an inclusive range ("1-3"), or a list ("1,3,5").
 * Absent means {@link DEFAULT_LEVELS}.
 *
 * @example
 * parseDifficulty("1-3") // [1, 2, 3]
 */
export const parseDifficulty = (
  value: string | undefined,
  max: number = MAX_LEVEL,
  defaults: ReadonlyArray<number> = DEFAULT_LEVELS,
): ReadonlyArray<number> => {
  if (value === undefined || value.trim() === "") return defaults
  const levels = new Set<number>()
  for (const part of value.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part)
    if (m === null) {
      throw new ConfigError({ field: "difficulty", detail: `expected a level 1..${max}, a range like 1-3 or a list like 1,3; got "${value}"` })
    }
    const lo = Number(m[1])
    const hi = m[2] === undefined ? lo : Number(m[2])
    if (lo < 1 || hi > max || lo > hi) {
      throw new ConfigError({ field: "difficulty", detail: `levels must lie in 1..${max} (low before high); got "${value}"` })
    }
    for (let l = lo; l <= hi; l++) levels.add(l)
  }
  return [...levels].sort((a, b) => a - b)
}
