/**
 * The agentic critique as the reference runs it: the critic reads the task and a summary of the
 * attempt with its reward, names the highest-value mistake and gives at most three short tips in
 * a `<critic>...</critic>` block; the retry shows only the tips, between the task and the
 * observation.
 */
import type { RoleTemplates } from "@icrl/core"

/** Most tips one critique gives. */
export const maxTips = 3

const encoder = new TextEncoder()
const bytesOf = (text: string): number => encoder.encode(text).length

/**
 * Cuts text to at most `max` bytes of UTF-8, ending in "..." when cut.
 *
 * @example
 * clipBytes("abcdef", 5) // "ab..."
 */
export const clipBytes = (text: string, max: number): string => {
  if (bytesOf(text) <= max) return text
  if (max <= 3) return ""
  let chars = Math.min(text.length, max - 3)
  while (chars > 0 && bytesOf(text.slice(0, chars)) > max - 3) chars--
  return `${text.slice(0, chars)}...`
}

/**
 * A critique in the reference format: the diagnosis, then at most three tips in a `<critic>`
 * block. To stay within `maxBytes` of UTF-8 (byte-level critics spend one token per byte), tips
 * are dropped from the end, then the diagnosis and the one tip left are cut.
 *
 * @example
 * formatCritique("Wrong place: you put the mug on the shelf 1.", ["Put it in the cabinet 1."])
 * // "Wrong place: you put the mug on the shelf 1. <critic>Tip 1: Put it in the cabinet 1.</critic>"
 */
export const formatCritique = (diagnosis: string, tips: ReadonlyArray<string>, maxBytes = Number.POSITIVE_INFINITY): string => {
  const block = (list: ReadonlyArray<string>) => `<critic>${list.map((tip, i) => `Tip ${i + 1}: ${tip}`).join(" ")}</critic>`
  let n = Math.min(maxTips, tips.length)
  while (n > 1 && bytesOf(`${diagnosis} ${block(tips.slice(0, n))}`) > maxBytes) n--
  let kept = tips.slice(0, n)
  const tip = kept[0]
  if (kept.length === 1 && tip !== undefined && bytesOf(`${diagnosis} ${block(kept)}`) > maxBytes) {
    // The one tip keeps at least half of what the format leaves; the diagnosis gets the rest.
    const room = maxBytes - bytesOf(block([""])) - 1
    kept = [clipBytes(tip, Math.max(Math.floor(room / 2), room - bytesOf(diagnosis)))]
  }
  const tail = block(kept)
  return `${clipBytes(diagnosis, maxBytes - bytesOf(tail) - 1)} ${tail}`
}

/**
 * What a retry is shown of a critique: the text of its first `<critic>...</critic>` block (an
 * unclosed block runs to the end), or the whole critique when it has none.
 *
 * @example
 * critiqueTips("Mistake: x. <critic>Tip 1: go to desk 1.</critic>") // "Tip 1: go to desk 1."
 * critiqueTips("look in the drawer") // "look in the drawer"
 */
export const critiqueTips = (critique: string): string => {
  const open = critique.indexOf("<critic>")
  if (open < 0) return critique.trim()
  const close = critique.indexOf("</critic>", open + 8)
  return critique.slice(open + 8, close < 0 ? undefined : close).trim()
}

/**
 * The critic prompt of the agentic environments: the task, then the attempt summary that
 * `renderTrajectory` writes (its steps and its reward).
 *
 * @example
 * agenticTemplates.critic("put a mug in shelf.", "\n> go to desk 1\n...\nReward: 0")
 * // "Task: put a mug in shelf.\nAttempt:\n> go to desk 1\n...\nReward: 0\nCritique:"
 */
export const agenticTemplates: Pick<RoleTemplates, "critic"> = {
  critic: (x, attempt) => `Task: ${x}\nAttempt:${attempt}\nCritique:`,
}
