/**
 * The searchqa reference critic: replays an attempt and names the missing or wrong hop: the
 * first hop whose supporting passage was never retrieved (with the search that finds it), an
 * answer that stops at a bridge entity, a namesake taken for the right person, or a wrong final
 * hop when every passage was found; tips say what to search or answer next.
 */
import { formatCritique } from "../critique.ts"
import { clip } from "../projection.ts"
import { normalizeAnswer } from "./answer.ts"
import { SearchQaEnvironment, type SearchQaSettings } from "./environment.ts"
import { searchQaHopPhrase, searchQaNamesakeAnswer } from "./expert.ts"
import type { SearchQaTask } from "./task.ts"
import { searchQaWorld } from "./world.ts"

const quote = (text: string, max = 40): string => `"${clip(text, max)}"`

/**
 * The reference critique of an attempt given as its action list, at most `maxBytes` long in
 * UTF-8: the missing or wrong hop, then tips (the search to make, what to answer with).
 *
 * @example
 * searchQaCritique(task, ["search[Silent River film]", "answer[Anna Berg]"], settings)
 * // "Stopped early: Anna Berg is only hop 1 of 2. <critic>Tip 1: Next find the birthplace of Anna Berg. Tip 2: ...</critic>"
 */
export const searchQaCritique = (task: SearchQaTask, actions: ReadonlyArray<string>, settings: SearchQaSettings, maxBytes = 157): string => {
  const env = new SearchQaEnvironment(task, settings)
  env.restart()
  for (const action of actions) {
    const result = env.advance(action)
    if (result.terminated || result.truncated) break
  }
  const retrieved = new Set<number>()
  for (const s of env.searchLog) for (const d of s.docs) retrieved.add(d)
  const given = env.answer
  const hops = task.hops
  const n = hops.length
  const say = (diagnosis: string, tips: ReadonlyArray<string>) => formatCritique(diagnosis, tips, maxBytes)
  const correct = given !== undefined && task.answers.some((a) => normalizeAnswer(a) === normalizeAnswer(given))
  if (correct) return say("Correct: the answer is right.", ["Do the same again."])
  const missing = hops.findIndex((h) => h.doc >= 0 && !retrieved.has(h.doc))
  const generated = task.source === "generated"
  const world = generated ? searchQaWorld(task.corpusSeed) : undefined
  // Which hop's entity did the answer name? (stopping early at a bridge entity)
  if (given !== undefined && world !== undefined) {
    const at = task.path.findIndex((e, i) => i > 0 && i < n && e >= 0 && normalizeAnswer(world.entities[e]!.name) === normalizeAnswer(given))
    if (at > 0) {
      const name = world.entities[task.path[at]!]!.name
      return say(`Stopped early: ${name} is only hop ${at} of ${n}.`, [`Next find ${searchQaHopPhrase(hops[at]!.relation, name)}.`, `Use search[${hops[at]!.query}].`])
    }
    const confused = searchQaNamesakeAnswer(task)
    if (confused !== undefined && normalizeAnswer(confused) === normalizeAnswer(given) && missing < 0) {
      const subject = world.entities[task.path[n - 1]!]!
      return say(`Wrong hop ${n}: ${quote(given, 30)} belongs to another ${subject.name}.`, [`Use the passage on the ${subject.kind} ${subject.name}.`])
    }
  }
  if (missing >= 0) {
    const hop = hops[missing]!
    const what = generated ? `the passage on ${quote(hop.entity)}` : `the passage ${quote(hop.title)}`
    const lead = given === undefined ? "No answer given. " : ""
    return say(`${lead}Missing hop ${missing + 1} of ${n}: ${what} was never retrieved.`, [`Use search[${hop.query}].`])
  }
  if (given === undefined && !hops.some((h) => h.doc >= 0)) {
    return say("No answer given.", ["Search the question's key words.", "Read the passages, then give answer[...]."])
  }
  if (given === undefined) {
    const last = hops[n - 1]
    const target = generated && last !== undefined ? searchQaHopPhrase(last.relation, last.entity) : "the answer"
    return say("Missing answer: every hop was found, but no answer[...] was given.", [`Answer with ${target}.`])
  }
  const last = hops[n - 1]
  if (generated && last !== undefined) {
    return say(`Wrong final hop: ${quote(given, 30)} is not ${searchQaHopPhrase(last.relation, last.entity)}.`, [`Reread the passage on ${quote(last.entity)}.`])
  }
  if (last !== undefined && last.doc >= 0) {
    return say(`Wrong answer: ${quote(given, 30)} is not what the passages support.`, [`Reread ${hops.map((h) => quote(h.title, 30)).join(", ")}.`])
  }
  return say(`Wrong answer: ${quote(given, 30)} does not answer the question.`, ["Search its key words and reread the passages."])
}
