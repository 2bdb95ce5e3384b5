/**
 * Finding the final answer in a solution text: the last balanced `\boxed{...}`, else the last
 * `#### N`, else the last "the answer is ..." / "Answer: ...", else the last number.
 * Linear time in the text length; never throws.
 */

/** Candidates longer than this are not answers (hostile or runaway text). */
export const MAX_ANSWER_LENGTH = 1000

const BOX_COMMANDS = ["\\boxed", "\\fbox"] as const

/**
 * The content of the last `\boxed{...}` (or `\fbox{...}`) whose braces balance, or of a
 * `\boxed 5` written without braces.
 */
export const lastBoxed = (text: string): string | undefined => {
  const starts: Array<number> = []
  for (const cmd of BOX_COMMANDS) {
    let at = text.indexOf(cmd)
    while (at >= 0) {
      starts.push(at + cmd.length)
      at = text.indexOf(cmd, at + cmd.length)
    }
  }
  if (starts.length === 0) return undefined
  starts.sort((a, b) => a - b)
  // One forward pass pairs every "{" after the first command with its "}".
  const first = starts[0] as number
  const close = new Map<number, number>()
  const stack: Array<number> = []
  for (let i = first; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 123) stack.push(i)
    else if (c === 125) {
      const open = stack.pop()
      if (open !== undefined) close.set(open, i)
    }
  }
  for (let k = starts.length - 1; k >= 0; k--) {
    let i = starts[k] as number
    while (i < text.length && text.charCodeAt(i) === 32) i++
    if (text.charCodeAt(i) === 123) {
      const end = close.get(i)
      if (end === undefined || end - i - 1 > MAX_ANSWER_LENGTH) continue
      const inner = text.slice(i + 1, end).trim()
      if (inner.length > 0) return inner
    } else if (i > (starts[k] as number)) {
      // "\boxed 5": the token up to whitespace or "$".
      let j = i
      while (j < text.length && j - i <= MAX_ANSWER_LENGTH && !/[\s$]/.test(text.charAt(j))) j++
      const token = text.slice(i, j)
      if (token.length > 0 && token.length <= MAX_ANSWER_LENGTH) return token
    }
  }
  return undefined
}

/** The rest of the line after the last `####`. */
export const lastHashes = (text: string): string | undefined => {
  let at = text.lastIndexOf("####")
  while (at >= 0) {
    let end = text.indexOf("\n", at)
    if (end < 0) end = text.length
    const rest = text.slice(at + 4, Math.min(end, at + 4 + MAX_ANSWER_LENGTH + 1)).replace(/^#+/, "").trim()
    if (rest.length > 0 && end - at - 4 <= MAX_ANSWER_LENGTH) return stripSentenceEnd(rest)
    at = at === 0 ? -1 : text.lastIndexOf("####", at - 1)
  }
  return undefined
}

const CONNECTOR = /s?\s{0,8}(?:\*\*|__)?\s{0,8}(?:(?:(?:is|was|will be|would be|should be|equals)(?![a-z])|=|:)\s{0,8}(?::\s{0,8})?)(?:\*\*|__)?[ \t]{0,8}/iy
const ANSWER_WORD = /answer/gi

/** What follows the last "answer is" / "answer:" / "answer =" on its line. */
export const lastAnswerPhrase = (text: string): string | undefined => {
  const positions: Array<number> = []
  ANSWER_WORD.lastIndex = 0
  for (let m = ANSWER_WORD.exec(text); m !== null; m = ANSWER_WORD.exec(text)) positions.push(m.index)
  for (let k = positions.length - 1; k >= 0; k--) {
    const at = positions[k] as number
    if (at > 0 && /[A-Za-z]/.test(text.charAt(at - 1))) continue
    CONNECTOR.lastIndex = at + 6
    const m = CONNECTOR.exec(text)
    if (m === null) continue
    const from = at + 6 + m[0].length
    let end = text.indexOf("\n", from)
    if (end < 0) end = text.length
    if (end - from > MAX_ANSWER_LENGTH) continue
    const phrase = stripSentenceEnd(text.slice(from, end).trim())
    if (phrase.length > 0) return phrase
  }
  return undefined
}

/** Cuts a phrase at its first sentence end (". " or a final "."), and drops wrapping "**" or "$". */
const stripSentenceEnd = (phrase: string): string => {
  let s = phrase
  const stop = s.search(/\.(?:\s|$)/)
  if (stop >= 0) s = s.slice(0, stop)
  s = s.replace(/^(?:\*\*|__)\s*/, "").replace(/\s*(?:\*\*|__)$/, "").trim()
  if (s.length >= 2 && s.startsWith("$") && s.endsWith("$") && !/^\$\d/.test(s.slice(1))) s = s.slice(1, -1).trim()
  return s
}

const isDigitCode = (c: number): boolean => c >= 48 && c <= 57

/**
 * The last number in the text, with its sign, thousands separators, decimals, a fraction
 * `a/b` and a trailing `%` when present.
 */
export const lastNumber = (text: string): string | undefined => {
  let j = text.length - 1
  while (j >= 0 && !isDigitCode(text.charCodeAt(j))) j--
  if (j < 0) return undefined
  let end = j + 1
  if (text.charAt(end) === "%") end++
  let i = j
  const expand = (): void => {
    while (i > 0) {
      const c = text.charCodeAt(i - 1)
      if (isDigitCode(c)) i--
      else if ((c === 44 || c === 46) && i >= 2 && isDigitCode(text.charCodeAt(i - 2))) i--
      else break
    }
  }
  expand()
  if (text.charAt(i - 1) === "/" && i >= 2 && isDigitCode(text.charCodeAt(i - 2))) {
    i -= 1
    expand()
  }
  if (i > 0 && (text.charAt(i - 1) === "-" || text.charAt(i - 1) === "\u2212")) {
    const before = i >= 2 ? text.charAt(i - 2) : " "
    if (!/[0-9A-Za-z)]/.test(before)) i--
  }
  if (end - i > MAX_ANSWER_LENGTH) return undefined
  const token = text.slice(i, end)
  return token.length > 0 ? token : undefined
}

/**
 * The final answer of a solution text, or undefined when it has none.
 * Order: last balanced `\boxed{}`, last `#### N`, last "the answer is N" / "Answer: N", last number.
 *
 * @example
 * extractAnswer("so x = \\boxed{\\frac{1}{2}}.") // "\\frac{1}{2}"
 * extractAnswer("She makes 9 * 2 = $18.\n#### 18") // "18"
 * extractAnswer(" 7+8=15; 4+3+1=8. Answer: 85") // "85"
 * extractAnswer("no digits here") // undefined
 */
export const extractAnswer = (text: string): string | undefined => {
  if (typeof text !== "string" || text.length === 0) return undefined
  try {
    return lastBoxed(text) ?? lastHashes(text) ?? lastAnswerPhrase(text) ?? lastNumber(text)
  } catch {
    return undefined
  }
}
