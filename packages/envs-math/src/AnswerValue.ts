/**
 * Canonical answer values: an exact rational (optionally a percent), a tuple or list of values,
 * or normalized text. Parsing never throws and never evaluates text as code.
 */
import * as Q from "./Rational.ts"
import type { Rational } from "./Rational.ts"

export type AnswerValue =
  | { readonly kind: "number"; readonly value: Rational; readonly percent: boolean }
  | { readonly kind: "tuple"; readonly open: string; readonly close: string; readonly items: ReadonlyArray<AnswerValue> }
  | { readonly kind: "text"; readonly text: string }

/** Inputs longer than this are compared as whitespace-free text without further parsing. */
const MAX_PARSE_LENGTH = 4000
/** Literals with more digits than this are compared as text. */
const MAX_DIGITS = 2000
const MAX_DEPTH = 4

const PLAIN_INTEGER = /^\s*([-+\u2212]?)(\d{1,15})\s*$/

const normalizeLatex = (raw: string): string => {
  let s = raw
  if (s.includes("\\")) {
    s = s
      .replace(/\\[dt]frac/g, "\\frac")
      .replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big|displaystyle)(?![A-Za-z])/g, "")
      .replace(/\\[,;:! ]/g, "")
      .replace(/\\(?:text|textbf|textit|textrm|textnormal|mathrm|mathbf|mathit|mbox|operatorname)\s*\{([^{}]*)\}/g, " $1 ")
      .replace(/\^\s*\{?\s*\\circ\s*\}?/g, "")
      .replace(/\\%/g, "%")
      .replace(/\\\$/g, "")
      .replace(/\\(?:cdot|times)(?![A-Za-z])/g, "*")
      .replace(/\\div(?![A-Za-z])/g, "/")
  }
  if (s.includes("{,}")) s = s.replace(/\{,\}/g, ",")
  if (s.includes("$")) s = s.replace(/\$/g, "")
  return s
    .replace(/[\u2212\u2013]/g, "-")
    .replace(/\u00b0/g, "")
    .replace(/\s+/g, " ")
    .trim()
}

const isDigit = (c: string): boolean => c >= "0" && c <= "9"

interface Cursor {
  readonly s: string
  i: number
}

const skipSpaces = (c: Cursor): void => {
  while (c.i < c.s.length && c.s.charAt(c.i) === " ") c.i++
}

/** digits with optional thousands groups and decimals; "" → undefined. */
const plainNumber = (c: Cursor): Rational | undefined => {
  const { s } = c
  let digits = ""
  let groups = 0
  let firstGroupLength = 0
  let sawPoint = false
  let sawComma = false
  while (c.i < s.length) {
    const ch = s.charAt(c.i)
    if (isDigit(ch)) {
      digits += ch
      if (!sawPoint && !sawComma) firstGroupLength++
      c.i++
      if (digits.length > MAX_DIGITS) return undefined
    } else if (ch === "," && !sawPoint && digits.length > 0 && (sawComma || firstGroupLength <= 3)) {
      // A thousands separator: exactly three digits follow, then a non-digit.
      if (isDigit(s.charAt(c.i + 1)) && isDigit(s.charAt(c.i + 2)) && isDigit(s.charAt(c.i + 3)) && !isDigit(s.charAt(c.i + 4))) {
        sawComma = true
        groups++
        c.i++
      } else break
    } else if (ch === "." && !sawPoint && isDigit(s.charAt(c.i + 1))) {
      sawPoint = true
      digits += ch
      c.i++
    } else break
  }
  if (digits.length === 0 || digits === ".") return undefined
  return Q.fromDecimal(digits)
}

const signedPlain = (c: Cursor): Rational | undefined => {
  skipSpaces(c)
  let negative = false
  const ch = c.s.charAt(c.i)
  if (ch === "-" || ch === "+") {
    negative = ch === "-"
    c.i++
    skipSpaces(c)
  }
  const v = plainNumber(c)
  skipSpaces(c)
  return v === undefined ? undefined : negative ? Q.negate(v) : v
}

/** One `\frac` argument: `{signed number}` or a single digit. */
const fracArgument = (c: Cursor): Rational | undefined => {
  skipSpaces(c)
  const ch = c.s.charAt(c.i)
  if (ch === "{") {
    const end = c.s.indexOf("}", c.i)
    if (end < 0) return undefined
    const inner: Cursor = { s: c.s.slice(c.i + 1, end), i: 0 }
    const v = signedPlain(inner)
    if (v === undefined || inner.i !== inner.s.length) return undefined
    c.i = end + 1
    return v
  }
  if (isDigit(ch)) {
    c.i++
    return Q.fromInt(Number(ch))
  }
  return undefined
}

/** Unit words after a number ("dollars", "cm", "per hour"): letters, spaces, '.', '/', '-'. */
const isUnitTail = (rest: string): boolean => {
  if (rest.length === 0) return true
  if (!/^ ?[A-Za-z][A-Za-z.'/\- ]*$/.test(rest)) return false
  // "5x" is algebra, not a unit: an attached unit must be at least two letters long.
  return rest.startsWith(" ") || /^[A-Za-z]{2}/.test(rest)
}

/** A signed number, `a/b` or `\frac{a}{b}`, with an optional percent sign and unit words. */
const parseNumeric = (s: string): { value: Rational; percent: boolean } | undefined => {
  const c: Cursor = { s, i: 0 }
  skipSpaces(c)
  let negative = false
  const sign = s.charAt(c.i)
  if (sign === "-" || sign === "+") {
    negative = sign === "-"
    c.i++
    skipSpaces(c)
  }
  let value: Rational | undefined
  if (s.startsWith("\\frac", c.i)) {
    c.i += 5
    const a = fracArgument(c)
    const b = a === undefined ? undefined : fracArgument(c)
    value = a === undefined || b === undefined ? undefined : Q.div(a, b)
  } else {
    value = plainNumber(c)
    skipSpaces(c)
    if (value !== undefined && s.charAt(c.i) === "/") {
      c.i++
      skipSpaces(c)
      const d = plainNumber(c)
      value = d === undefined ? undefined : Q.div(value, d)
    }
  }
  if (value === undefined) return undefined
  skipSpaces(c)
  let percent = false
  if (s.charAt(c.i) === "%") {
    percent = true
    c.i++
  } else if (/^percent(?![A-Za-z])/i.test(s.slice(c.i, c.i + 8))) {
    percent = true
    c.i += 7
  }
  if (!isUnitTail(s.slice(c.i))) return undefined
  return { value: negative ? Q.negate(value) : value, percent }
}

const BRACKETS: ReadonlyArray<readonly [string, string]> = [
  ["(", ")"],
  ["[", "]"],
  ["\\{", "\\}"],
  ["{", "}"],
]

/** Splits at commas that are outside every bracket. */
const splitTopLevel = (s: string): Array<string> => {
  const parts: Array<string> = []
  let depth = 0
  let start = 0
  for (let i = 0; i < s.length; i++) {
    const ch = s.charAt(i)
    if (ch === "(" || ch === "[" || ch === "{") depth++
    else if (ch === ")" || ch === "]" || ch === "}") depth--
    else if (ch === "," && depth === 0) {
      parts.push(s.slice(start, i))
      start = i + 1
    }
  }
  parts.push(s.slice(start))
  return parts
}

/** Whether the opening bracket at 0 closes exactly at the end of `s`. */
const wrapsWhole = (s: string, open: string, close: string): boolean => {
  if (!s.startsWith(open) || !s.endsWith(close) || s.length < open.length + close.length) return false
  let depth = 0
  for (let i = 0; i < s.length; i++) {
    const ch = s.charAt(i)
    if (ch === "(" || ch === "[" || ch === "{") depth++
    else if (ch === ")" || ch === "]" || ch === "}") {
      depth--
      if (depth === 0 && i < s.length - 1) return false
    }
  }
  return depth === 0
}

const textValue = (s: string): AnswerValue => ({
  kind: "text",
  text: s
    .replace(/\s+/g, "")
    .replace(/\\frac(\d)(\d)/g, "\\frac{$1}{$2}")
    .replace(/\\sqrt(\d|[A-Za-z](?![A-Za-z]))/g, "\\sqrt{$1}"),
})

const parseAt = (raw: string, depth: number): AnswerValue => {
  if (raw.length > MAX_PARSE_LENGTH) return { kind: "text", text: raw.replace(/\s+/g, "") }
  const quick = PLAIN_INTEGER.exec(raw)
  if (quick !== null) {
    const n = BigInt(quick[2] as string)
    return { kind: "number", value: { num: quick[1] === "" || quick[1] === "+" ? n : -n, den: 1n }, percent: false }
  }
  let s = normalizeLatex(raw).replace(/[.;:,]+$/, "").trim()
  const eq = s.lastIndexOf("=")
  if (eq >= 0 && eq < s.length - 1) s = s.slice(eq + 1).trim()
  const numeric = parseNumeric(s)
  if (numeric !== undefined) return { kind: "number", value: numeric.value, percent: numeric.percent }
  if (depth < MAX_DEPTH) {
    for (const [open, close] of BRACKETS) {
      if (!wrapsWhole(s, open, close)) continue
      const inner = s.slice(open.length, s.length - close.length)
      const parts = splitTopLevel(inner)
      if (parts.length === 1) {
        if (open === "(" || open === "{") return parseAt(inner, depth + 1)
        break
      }
      return { kind: "tuple", open: open.replace("\\", ""), close: close.replace("\\", ""), items: parts.map((p) => parseAt(p, depth + 1)) }
    }
    const parts = splitTopLevel(s)
    if (parts.length > 1 && parts.length <= 64) return { kind: "tuple", open: "", close: "", items: parts.map((p) => parseAt(p, depth + 1)) }
  }
  return textValue(s)
}

const cache = new Map<string, AnswerValue>()

/**
 * The canonical value of an answer string.
 *
 * @example
 * parseAnswer("$1,234.50") // { kind: "number", value: 2469/2, percent: false }
 * parseAnswer("\\dfrac{3}{4}") // { kind: "number", value: 3/4, percent: false }
 * parseAnswer("(1, 2)") // { kind: "tuple", open: "(", close: ")", items: [1, 2] }
 */
export const parseAnswer = (raw: string): AnswerValue => {
  if (raw.length > 256) return parseAt(raw, 0)
  const hit = cache.get(raw)
  if (hit !== undefined) return hit
  const value = parseAt(raw, 0)
  if (cache.size >= 8192) cache.clear()
  cache.set(raw, value)
  return value
}

const numberCandidates = (v: { value: Rational; percent: boolean }): ReadonlyArray<Rational> =>
  v.percent ? [v.value, Q.div(v.value, Q.fromInt(100)) as Rational] : [v.value]

/** Whether a perfect matching pairs every item of `a` with an equivalent item of `b`. */
const multisetMatch = (a: ReadonlyArray<AnswerValue>, b: ReadonlyArray<AnswerValue>): boolean => {
  if (a.length !== b.length) return false
  const owner = new Array<number>(b.length).fill(-1)
  const tryAssign = (i: number, seen: Array<boolean>): boolean => {
    for (let j = 0; j < b.length; j++) {
      if (seen[j] || !valuesMatch(a[i] as AnswerValue, b[j] as AnswerValue)) continue
      seen[j] = true
      if (owner[j] === -1 || tryAssign(owner[j] as number, seen)) {
        owner[j] = i
        return true
      }
    }
    return false
  }
  for (let i = 0; i < a.length; i++) if (!tryAssign(i, new Array<boolean>(b.length).fill(false))) return false
  return true
}

/**
 * Equivalence of canonical values: numbers are equal exactly (a percent also matches its value
 * divided by 100), tuples match item by item (unbracketed lists in any order), text matches
 * exactly. Reflexive and symmetric.
 *
 * @example
 * valuesMatch(parseAnswer("50%"), parseAnswer("0.5")) // true
 */
export const valuesMatch = (a: AnswerValue, b: AnswerValue): boolean => {
  if (a.kind === "number" && b.kind === "number") {
    for (const x of numberCandidates(a)) for (const y of numberCandidates(b)) if (Q.equals(x, y)) return true
    return false
  }
  if (a.kind === "tuple" && b.kind === "tuple") {
    if (a.open !== b.open || a.close !== b.close || a.items.length !== b.items.length) return false
    if (a.open === "") return multisetMatch(a.items, b.items)
    return a.items.every((item, i) => valuesMatch(item, b.items[i] as AnswerValue))
  }
  if (a.kind === "text" && b.kind === "text") return a.text === b.text
  return false
}
