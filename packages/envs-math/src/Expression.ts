/**
 * A small recursive-descent parser and exact evaluator for arithmetic expressions
 * (numbers, + - * /, parentheses). It never evaluates text as code, never throws, and bounds
 * the length, nesting depth and literal size it accepts.
 */
import * as Q from "./Rational.ts"
import type { Rational } from "./Rational.ts"

export type Operator = "+" | "-" | "*" | "/"

export type Expr =
  | { readonly kind: "num"; readonly value: Rational; readonly text: string }
  | { readonly kind: "neg"; readonly operand: Expr }
  | { readonly kind: "bin"; readonly op: Operator; readonly left: Expr; readonly right: Expr }

export interface ParseOptions {
  /** Accept decimal literals like 3.5 (default true). */
  readonly decimals?: boolean
  /** Accept thousands separators like 1,000 inside literals (default false). */
  readonly thousands?: boolean
  /** Accept a leading unary minus (default true). */
  readonly unaryMinus?: boolean
  /** Longest input accepted (default 2000 characters). */
  readonly maxLength?: number
  /** Deepest parenthesis / unary nesting accepted (default 64). */
  readonly maxDepth?: number
  /** Most digits in one literal (default 400). */
  readonly maxDigits?: number
}

const OPERATOR_ALIASES: Readonly<Record<string, Operator>> = {
  "+": "+",
  "-": "-",
  "\u2212": "-",
  "*": "*",
  "\u00d7": "*",
  "\u00b7": "*",
  "/": "/",
  "\u00f7": "/",
}

class Parser {
  private pos = 0
  private depth = 0
  failed = false

  constructor(
    private readonly src: string,
    private readonly decimals: boolean,
    private readonly thousands: boolean,
    private readonly unaryMinus: boolean,
    private readonly maxDepth: number,
    private readonly maxDigits: number,
  ) {}

  private skip(): void {
    while (this.pos < this.src.length) {
      const c = this.src.charCodeAt(this.pos)
      if (c === 32 || c === 9 || c === 10 || c === 13) this.pos++
      else break
    }
  }

  private peekOp(): Operator | undefined {
    this.skip()
    return OPERATOR_ALIASES[this.src.charAt(this.pos)]
  }

  atEnd(): boolean {
    this.skip()
    return this.pos >= this.src.length
  }

  expression(): Expr | undefined {
    let left = this.term()
    while (left !== undefined) {
      const op = this.peekOp()
      if (op !== "+" && op !== "-") break
      this.pos++
      const right = this.term()
      if (right === undefined) return undefined
      left = { kind: "bin", op, left, right }
    }
    return left
  }

  private term(): Expr | undefined {
    let left = this.unary()
    while (left !== undefined) {
      const op = this.peekOp()
      if (op !== "*" && op !== "/") break
      this.pos++
      const right = this.unary()
      if (right === undefined) return undefined
      left = { kind: "bin", op, left, right }
    }
    return left
  }

  private unary(): Expr | undefined {
    if (this.peekOp() === "-" && this.unaryMinus) {
      if (++this.depth > this.maxDepth) return this.fail()
      this.pos++
      const operand = this.unary()
      this.depth--
      return operand === undefined ? undefined : { kind: "neg", operand }
    }
    return this.primary()
  }

  private primary(): Expr | undefined {
    this.skip()
    const c = this.src.charAt(this.pos)
    if (c === "(") {
      if (++this.depth > this.maxDepth) return this.fail()
      this.pos++
      const inner = this.expression()
      this.skip()
      if (inner === undefined || this.src.charAt(this.pos) !== ")") return this.fail()
      this.pos++
      this.depth--
      return inner
    }
    return this.number()
  }

  private number(): Expr | undefined {
    const start = this.pos
    const src = this.src
    let digits = ""
    let chunk = start
    let sawPoint = false
    let count = 0
    while (this.pos < src.length) {
      const c = src.charCodeAt(this.pos)
      if (c >= 48 && c <= 57) {
        if (++count > this.maxDigits) return this.fail()
        this.pos++
      } else if (c === 46 && this.decimals && !sawPoint && isDigit(src.charAt(this.pos + 1))) {
        sawPoint = true
        this.pos++
      } else if (c === 44 && this.thousands && !sawPoint && count > 0 && isThousandsGroup(src, this.pos)) {
        digits += src.slice(chunk, this.pos)
        this.pos++
        chunk = this.pos
      } else break
    }
    if (count === 0) return this.fail()
    digits += src.slice(chunk, this.pos)
    const value = Q.fromDecimal(digits)
    if (value === undefined) return this.fail()
    return { kind: "num", value, text: src.slice(start, this.pos) }
  }

  private fail(): undefined {
    this.failed = true
    return undefined
  }
}

const isDigit = (ch: string): boolean => ch >= "0" && ch <= "9"

/** A comma at `at` followed by exactly three digits and then a non-digit. */
const isThousandsGroup = (src: string, at: number): boolean =>
  isDigit(src.charAt(at + 1)) && isDigit(src.charAt(at + 2)) && isDigit(src.charAt(at + 3)) && !isDigit(src.charAt(at + 4))

/**
 * Parses an arithmetic expression; undefined when the text is not one (or is too long/deep).
 *
 * @example
 * parseExpression("(25-7)*3") // { kind: "bin", op: "*", ... }
 * parseExpression("2+") // undefined
 */
export const parseExpression = (text: string, options: ParseOptions = {}): Expr | undefined => {
  if (typeof text !== "string" || text.length > (options.maxLength ?? 2000)) return undefined
  const parser = new Parser(
    text,
    options.decimals ?? true,
    options.thousands ?? false,
    options.unaryMinus ?? true,
    options.maxDepth ?? 64,
    options.maxDigits ?? 400,
  )
  const expr = parser.expression()
  if (expr === undefined || parser.failed || !parser.atEnd()) return undefined
  return expr
}

/**
 * The exact value of an expression; undefined on division by zero.
 *
 * @example
 * evaluate(parseExpression("1/3+1/6")!) // { num: 1n, den: 2n }
 */
export const evaluate = (expr: Expr): Rational | undefined => {
  switch (expr.kind) {
    case "num":
      return expr.value
    case "neg": {
      const v = evaluate(expr.operand)
      return v === undefined ? undefined : Q.negate(v)
    }
    case "bin": {
      const a = evaluate(expr.left)
      if (a === undefined) return undefined
      const b = evaluate(expr.right)
      if (b === undefined) return undefined
      return applyOperator(expr.op, a, b)
    }
  }
}

/** a op b exactly; undefined on division by zero. */
export const applyOperator = (op: Operator, a: Rational, b: Rational): Rational | undefined => {
  switch (op) {
    case "+":
      return Q.add(a, b)
    case "-":
      return Q.sub(a, b)
    case "*":
      return Q.mul(a, b)
    case "/":
      return Q.div(a, b)
  }
}

/** The number literals of an expression, left to right. */
export const literals = (expr: Expr): Array<Rational> => {
  const out: Array<Rational> = []
  const walk = (e: Expr): void => {
    if (e.kind === "num") out.push(e.value)
    else if (e.kind === "neg") walk(e.operand)
    else {
      walk(e.left)
      walk(e.right)
    }
  }
  walk(expr)
  return out
}

/** How many binary operators an expression has. */
export const operatorCount = (expr: Expr): number =>
  expr.kind === "num" ? 0 : expr.kind === "neg" ? operatorCount(expr.operand) : 1 + operatorCount(expr.left) + operatorCount(expr.right)

const precedence = (op: Operator): number => (op === "+" || op === "-" ? 1 : 2)

/**
 * Renders an expression with only the parentheses its structure needs.
 *
 * @example
 * render(parseExpression("((2+3))*4")!) // "(2+3)*4"
 */
export const render = (expr: Expr): string => {
  switch (expr.kind) {
    case "num":
      return Q.toText(expr.value)
    case "neg": {
      const inner = render(expr.operand)
      return expr.operand.kind === "num" ? `-${inner}` : `-(${inner})`
    }
    case "bin": {
      const p = precedence(expr.op)
      const l = render(expr.left)
      const r = render(expr.right)
      const lWrap = expr.left.kind === "bin" && precedence(expr.left.op) < p
      const rWrap =
        expr.right.kind === "neg" ||
        (expr.right.kind === "bin" && (precedence(expr.right.op) < p || (precedence(expr.right.op) === p && (expr.op === "-" || expr.op === "/"))))
      return `${lWrap ? `(${l})` : l}${expr.op}${rWrap ? `(${r})` : r}`
    }
  }
}
