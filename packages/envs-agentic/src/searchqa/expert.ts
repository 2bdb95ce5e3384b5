/**
 * The searchqa expert (one search per hop along the relation path, then the gold answer) and
 * corrupted attempts for warm-start data: stopping at a bridge entity, skipping a hop,
 * confusing a namesake, a wrong final hop, a bad search, or no answer at all.
 */
import type { Rng } from "@icrl/core"
import type { ScriptedStep } from "../episode.ts"
import { normalizeAnswer } from "./answer.ts"
import { searchQaRelations } from "./relations.ts"
import type { SearchQaTask } from "./task.ts"
import { searchQaWorld } from "./world.ts"

/**
 * The expert plan within a search budget: one search per hop (the first `maxSearches` hops when
 * there are more), then `answer[...]` with the first gold answer.
 *
 * @example
 * searchQaExpertPlan(task, 4).map((s) => s.action)
 * // ["search[Silent River film]", "search[Anna Berg director]", "answer[Velmora]"]
 */
export const searchQaExpertPlan = (task: SearchQaTask, maxSearches: number): Array<ScriptedStep> => [
  ...task.hops.slice(0, Math.max(0, maxSearches)).map((h) => ({ action: `search[${h.query}]`, think: h.think })),
  { action: `answer[${task.answers[0] ?? ""}]`, think: "answer" },
]

export type SearchQaCorruption = "stop-early" | "skip-hop" | "namesake" | "wrong-final" | "bad-search" | "no-answer"

export const searchQaCorruptions: ReadonlyArray<SearchQaCorruption> = ["stop-early", "skip-hop", "namesake", "wrong-final", "bad-search", "no-answer"]

/**
 * A wrong answer of the same kind as the gold one: another entity of the answer's type, another
 * year, or (for file tasks) another question's words. Never equal to a gold answer after normalization.
 *
 * @example
 * searchQaWrongAnswer(task, new Rng(1)) !== task.answers[0] // true
 */
export const searchQaWrongAnswer = (task: SearchQaTask, rng: Rng): string => {
  const golds = new Set(task.answers.map(normalizeAnswer))
  const ok = (a: string) => a.trim() !== "" && !golds.has(normalizeAnswer(a))
  if (task.source === "generated") {
    const world = searchQaWorld(task.corpusSeed)
    const last = task.path[task.path.length - 1]!
    for (let i = 0; i < 50; i++) {
      const guess = last >= 0 ? world.entities[rng.pick(world.byType[world.entities[last]!.type])]!.name : String(Number(task.answers[0]) + rng.pick([-7, -3, -1, 1, 2, 5, 11]))
      if (ok(guess)) return guess
    }
  }
  const pool = ["unknown", "none of them", "1999", "the first one", task.text.split(/\s+/).slice(-2).join(" ")]
  for (let i = 0; i < 20; i++) {
    const guess = rng.pick(pool)
    if (ok(guess)) return guess
  }
  return "no idea"
}

/** Which corruptions make sense for a task. */
export const searchQaCorruptionsFor = (task: SearchQaTask): Array<SearchQaCorruption> => {
  const out: Array<SearchQaCorruption> = ["skip-hop", "wrong-final", "bad-search", "no-answer"]
  if (task.source === "generated" && task.hops.length >= 2) out.push("stop-early")
  if (searchQaNamesakeAnswer(task) !== undefined) out.push("namesake")
  return out
}

/**
 * The answer a namesake of the last bridge person would give (when the last hop asks for a
 * person's birthplace or birth year and that person has a namesake with a different value).
 */
export const searchQaNamesakeAnswer = (task: SearchQaTask): string | undefined => {
  if (task.source !== "generated") return undefined
  const world = searchQaWorld(task.corpusSeed)
  const hop = task.hops.at(-1)
  const subject = task.path[task.hops.length - 1]
  if (hop === undefined || subject === undefined || (hop.relation !== "birthplace" && hop.relation !== "birthYear")) return undefined
  for (const n of world.namesakes.get(subject) ?? []) {
    const value = world.entities[n]!.facts[hop.relation]
    const text = typeof value === "number" ? world.entities[value]!.name : value
    if (text !== undefined && !task.answers.some((a) => normalizeAnswer(a) === normalizeAnswer(text))) return text
  }
  return undefined
}

/**
 * A corrupted attempt of the given kind.
 *
 * @example
 * corruptedSearchQaPlan(task, "no-answer", 4, new Rng(1)).some((s) => s.think === "answer") // false
 */
export const corruptedSearchQaPlan = (task: SearchQaTask, corruption: SearchQaCorruption, maxSearches: number, rng: Rng): Array<ScriptedStep> => {
  const expert = searchQaExpertPlan(task, maxSearches)
  const searches = expert.slice(0, -1)
  const answer = (text: string): ScriptedStep => ({ action: `answer[${text}]`, think: "answer" })
  switch (corruption) {
    case "stop-early": {
      if (task.source !== "generated" || searches.length < 2) return [...searches, answer(searchQaWrongAnswer(task, rng))]
      const world = searchQaWorld(task.corpusSeed)
      const stop = 1 + rng.int(searches.length - 1)
      const bridge = world.entities[task.path[stop]!]!.name
      return [...searches.slice(0, stop), answer(bridge)]
    }
    case "skip-hop": {
      if (searches.length === 0) return [answer(searchQaWrongAnswer(task, rng))]
      const skip = rng.int(searches.length)
      return [...searches.filter((_, i) => i !== skip), answer(searchQaWrongAnswer(task, rng))]
    }
    case "namesake": {
      const text = searchQaNamesakeAnswer(task)
      return [...searches, answer(text ?? searchQaWrongAnswer(task, rng))]
    }
    case "wrong-final":
      return [...searches, answer(searchQaWrongAnswer(task, rng))]
    case "bad-search": {
      const world = task.source === "generated" ? searchQaWorld(task.corpusSeed) : undefined
      const query = world !== undefined ? world.entities[rng.pick(world.byType.person)]!.name : task.text.split(/\s+/).slice(0, 2).join(" ")
      return [{ action: `search[${query}]`, think: searches[0]?.think ?? "search" }, answer(searchQaWrongAnswer(task, rng))]
    }
    case "no-answer":
      return searches.length > 0 ? searches : [{ action: `search[${task.text.split(/\s+/).slice(0, 3).join(" ")}]`, think: "search" }]
  }
}

/** The relation name's noun phrase for critiques ("the birthplace of Anna Berg"). */
export const searchQaHopPhrase = (relation: string, subject: string): string =>
  relation in searchQaRelations ? searchQaRelations[relation as keyof typeof searchQaRelations].phrase(subject) : `the answer in "${subject}"`
