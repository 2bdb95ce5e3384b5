import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect } from "effect"
import { checkEnvironment, ConfigError, DataError } from "@icrl/core"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  loadCorpusFile,
  loadQuestionsFile,
  runScript,
  searchqa,
  searchQaCritique,
  SearchQaEnvironment,
  searchQaExpertPlan,
  searchQaTaskFromId,
  searchQaTasks,
} from "../src/index.ts"

let dir = ""
const file = (name: string, lines: ReadonlyArray<string>): string => {
  const path = join(dir, name)
  writeFileSync(path, `${lines.join("\n")}\n`)
  return path
}
const json = (value: unknown) => JSON.stringify(value)

const corpusRows = [
  { id: "d1", title: "Kessel Bridge", text: "Kessel Bridge is a bridge in Ormond, designed by Ada Winter in 1911." },
  { id: "d2", title: "Ada Winter", text: "Ada Winter was an engineer born in the town of Pellham." },
  { id: 3, title: "Pellham", text: "Pellham is a market town on the river Lune." },
  { id: "d4", title: "Ormond", text: "Ormond is a port city with a large harbour." },
  { id: "d5", title: "Lune", text: "The Lune is a river that flows into the western sea." },
  { id: "d6", title: "Winter Palace", text: "The Winter Palace is a building unrelated to Ada Winter." },
]
const questionRows = [
  { _id: "q1", question: "In which town was the designer of Kessel Bridge born?", answer: "Pellham", supporting_facts: [["Kessel Bridge", 0], ["Ada Winter", 0]] },
  { id: 2, question: "On which river is Pellham?", answers: ["the Lune", "River Lune"], supporting_titles: ["Pellham"] },
  { question: "Who designed Kessel Bridge?", answer: ["Ada Winter"], supporting_ids: ["d1"] },
  { question: "What kind of city is Ormond?", answer: "a port city" },
  { question: "Into which sea does the Lune flow?", answer: "western sea", supporting_titles: ["No Such Page"] },
]

let corpus = ""
let questions = ""
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "searchqa-"))
  corpus = file("corpus.jsonl", ["", ...corpusRows.map(json)])
  questions = file("questions.jsonl", questionRows.map(json))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const caught = (body: () => unknown): unknown => {
  try {
    body()
  } catch (error) {
    return error
  }
  return undefined
}

describe("corpus and questions files", () => {
  test("the corpus loads documents with ids, titles and a BM25 index", () => {
    const c = loadCorpusFile(corpus)
    expect(c.docs.map((d) => d.id)).toEqual(["d1", "d2", "3", "d4", "d5", "d6"])
    expect(c.byTitle.get("ada winter")).toEqual([1])
    expect(c.index.search("ada winter engineer", 1)[0]!.doc).toBe(1)
    expect(loadCorpusFile(corpus)).toBe(c)
  })

  test("questions load in HotpotQA and NQ styles", () => {
    const rows = loadQuestionsFile(questions)
    expect(rows.map((r) => r.id)).toEqual(["q1", "2", "line-3", "line-4", "line-5"])
    expect(rows[0]!.supportingTitles).toEqual(["Kessel Bridge", "Ada Winter"])
    expect(rows[1]!.answers).toEqual(["the Lune", "River Lune"])
    expect(rows[2]!.supportingIds).toEqual(["d1"])
  })

  test("malformed lines fail with the file and the line number", () => {
    const cases: Array<[string, ReadonlyArray<string>, "questions" | "corpus", number, RegExp]> = [
      ["bad-json.jsonl", [json(questionRows[0]), "", "{oops"], "questions", 3, /invalid JSON/],
      ["not-object.jsonl", ["[1, 2]"], "questions", 1, /expected a JSON object/],
      ["no-question.jsonl", [json(questionRows[0]), json({ answer: "x" })], "questions", 2, /"question"/],
      ["no-answer.jsonl", [json({ question: "Why?" })], "questions", 1, /"answer"/],
      ["empty-answer.jsonl", [json({ question: "Why?", answers: ["", "  "] })], "questions", 1, /no non-empty answer/],
      ["bad-answers.jsonl", [json({ question: "Why?", answers: [1, 2] })], "questions", 1, /"answers" must be a string or an array of strings/],
      ["long-answer.jsonl", [json({ question: "Why?", answer: "x".repeat(400) })], "questions", 1, /longer than 150/],
      ["bad-facts.jsonl", [json({ question: "Why?", answer: "x", supporting_facts: "Kessel" })], "questions", 1, /supporting_facts/],
      ["no-text.jsonl", [json(corpusRows[0]), json({ id: "z", title: "Z" })], "corpus", 2, /"text"/],
      ["no-id.jsonl", [json({ title: "Z", text: "z" })], "corpus", 1, /"id"/],
      ["dup-id.jsonl", [json(corpusRows[0]), json(corpusRows[1]), "", json({ id: "d1", text: "again" })], "corpus", 4, /duplicate id "d1"/],
      ["bad-title.jsonl", [json({ id: 1, title: 7, text: "z" })], "corpus", 1, /"title"/],
    ]
    for (const [name, lines, kind, line, reason] of cases) {
      const path = file(name, lines)
      const error = caught(() => (kind === "questions" ? loadQuestionsFile(path) : loadCorpusFile(path)))
      expect(error).toBeInstanceOf(DataError)
      const e = error as DataError
      expect(e.file).toBe(path)
      expect(e.line).toBe(line)
      expect(e.message).toStartWith(`${path}:${line}: `)
      expect(e.message).toMatch(reason)
    }
    const missing = join(dir, "missing.jsonl")
    const error = caught(() => loadCorpusFile(missing)) as DataError
    expect(error).toBeInstanceOf(DataError)
    expect(error.message).toStartWith(`${missing}: cannot open`)
    expect(error.line).toBeUndefined()
    const empty = file("empty.jsonl", ["", "  "])
    expect(caught(() => loadCorpusFile(empty))).toMatchObject({ message: `${empty}: the corpus has no documents` })
    // The same errors surface through the task list.
    const broken = file("broken-questions.jsonl", [json(questionRows[0]), "not json"])
    expect(() => searchQaTasks("train", { seed: 0, count: 5, options: { questions: broken, corpus } })).toThrow(`${broken}:2: invalid JSON`)
  })

  test("a questions file with nothing for the split fails naming it instead of giving 0 tasks", () => {
    const empty = file("no-questions.jsonl", ["", " "])
    const error = caught(() => searchQaTasks("test", { seed: 0, count: 5, options: { questions: empty, corpus } }))
    expect(error).toBeInstanceOf(DataError)
    expect((error as DataError).message).toBe(`${empty}: holds no questions (the file is empty)`)
    const held = file("held-all.jsonl", questionRows.map(json))
    expect(() => searchQaTasks("train", { seed: 0, count: 5, options: { questions, corpus, test_questions: held } })).toThrow(
      `${questions}: all of its 5 questions are also in test_questions (${held})`,
    )
  })

  test("a changed file is read again", () => {
    const path = file("changing.jsonl", [json({ question: "Q1?", answer: "a" })])
    expect(loadQuestionsFile(path).length).toBe(1)
    writeFileSync(path, `${json({ question: "Q1?", answer: "a" })}\n${json({ question: "Q2?", answer: "bb" })}\n`)
    expect(loadQuestionsFile(path).length).toBe(2)
  })
})

describe("file tasks", () => {
  const all = () => [
    ...searchQaTasks("train", { seed: 0, count: 10, options: { questions, corpus } }),
    ...searchQaTasks("test", { seed: 0, count: 10, options: { questions, corpus } }),
  ]

  test("questions are split by a hash of their text, disjoint and complete; supporting documents become hops", () => {
    const tasks = all()
    expect(tasks.length).toBe(5)
    expect(new Set(tasks.map((t) => t.text)).size).toBe(5)
    const byText = new Map(tasks.map((t) => [t.text, t]))
    expect(byText.get(questionRows[0]!.question)!.hops.map((h) => h.title)).toEqual(["Kessel Bridge", "Ada Winter"])
    expect(byText.get(questionRows[0]!.question)!.hops.map((h) => h.query)).toEqual(["Kessel Bridge", "Ada Winter"])
    expect(byText.get(questionRows[2]!.question)!.hops.map((h) => h.doc)).toEqual([0])
    // No supporting document (or one not in the corpus): the expert searches the question itself.
    for (const q of [questionRows[3]!.question, questionRows[4]!.question]) {
      expect(byText.get(q)!.hops).toEqual([{ doc: -1, title: "", query: q, think: "search", entity: "", relation: "" }])
    }
    const allTest = searchQaTasks("test", { seed: 0, count: 10, options: { questions, corpus, test_fraction: "1" } })
    expect(allTest.length).toBe(5)
    expect(() => searchQaTasks("train", { seed: 0, count: 10, options: { questions, corpus, test_fraction: "1" } })).toThrow(
      `${questions}: none of its 5 questions falls in the train split (test_fraction 1)`,
    )
    for (const t of tasks) expect(searchQaTaskFromId(t.id)).toEqual(t)
  })

  test("test_questions gives the test split and removes its questions from train", () => {
    const held = file("held.jsonl", [json(questionRows[1]), json({ question: "Where is Ormond's harbour?", answer: "Ormond" })])
    const options = { data: questions, corpus, test_questions: held }
    const test = searchQaTasks("test", { seed: 0, count: 10, options })
    const trainTasks = searchQaTasks("train", { seed: 0, count: 10, options })
    expect(test.map((t) => t.text)).toEqual([questionRows[1]!.question, "Where is Ormond's harbour?"])
    expect(trainTasks.map((t) => t.text)).toEqual(questionRows.filter((_, i) => i !== 1).map((q) => q.question))
    expect(searchQaTasks("train", { seed: 0, count: 2, offset: 1, options })).toEqual(trainTasks.slice(1, 3))
  })

  test("the expert answers every file question; answers are checked against all gold answers", () => {
    for (const t of all()) {
      const trajectory = Effect.runSync(runScript(searchqa, t, searchQaExpertPlan(t, 4)))
      expect(trajectory.won).toBe(true)
    }
    const river = all().find((t) => t.text === questionRows[1]!.question)!
    const env = new SearchQaEnvironment(river, { maxSearches: 4, topK: 3, passageChars: 160, maxSteps: 5, repeatLimit: 3, invalidActionPenalty: 0.1 })
    Effect.runSync(env.reset({ seed: 0 }))
    expect(Effect.runSync(env.step("search[pellham]")).observation).toContain("1. Pellham: Pellham is a market town on the river Lune.")
    expect(Effect.runSync(env.step("answer[river lune]")).info.won).toBe(true)
  })

  test("the critic names the supporting passage that was never retrieved", () => {
    const t = all().find((x) => x.text === questionRows[0]!.question)!
    const settings = { maxSearches: 4, topK: 1, passageChars: 160, maxSteps: 5, repeatLimit: 3, invalidActionPenalty: 0.1 }
    expect(searchQaCritique(t, ["search[kessel bridge]", "answer[Ormond]"], settings)).toBe(
      'Missing hop 2 of 2: the passage "Ada Winter" was never retrieved. <critic>Tip 1: Use search[Ada Winter].</critic>',
    )
    expect(searchQaCritique(t, ["search[kessel bridge]", "search[ada winter]", "answer[pellham]"], settings)).toBe(
      "Correct: the answer is right. <critic>Tip 1: Do the same again.</critic>",
    )
    expect(searchQaCritique(t, ["search[kessel bridge]", "search[ada winter]", "answer[ormond]"], settings)).toStartWith('Wrong answer: "ormond" is not what the passages')
    // Critiques fit the critic's budget in bytes, also with long non-ASCII titles and queries.
    const wide = { ...t, hops: [{ ...t.hops[0]!, title: "Ünïcödé ".repeat(20), query: "ünïcödé ".repeat(18) }] }
    const text = searchQaCritique(wide, [], settings, 160)
    expect(text).toStartWith('No answer given. Missing hop 1 of 1: the passage "Ünïcödé')
    expect(text).toEndWith("...</critic>")
    expect(new TextEncoder().encode(text).length).toBeLessThanOrEqual(160)
  })

  test("the environment doctor passes on file data", () => {
    const held = file("held-doctor.jsonl", [json(questionRows[0]), json({ question: "Where is Ormond's harbour?", answer: "Ormond" })])
    const report = Effect.runSync(checkEnvironment(searchqa, { episodes: 2, seed: 0, taskOptions: { questions, corpus, test_questions: held } }))
    expect(report.failures).toEqual([])
    expect(report.expertSuccessRate).toBe(1)
  })

  test("option mistakes are ConfigErrors naming the option", () => {
    const bad: Array<[Record<string, string>, string]> = [
      [{ questions }, "corpus"],
      [{ corpus }, "questions"],
      [{ questions, data: questions, corpus }, "data"],
      [{ questions, corpus, hops: "2" }, "hops"],
      [{ questions, corpus, corpus_seed: "1" }, "corpus_seed"],
      [{ questions, corpus, test_fraction: "2" }, "test_fraction"],
      [{ questions, corpus, test_questions: "" }, "test_questions"],
    ]
    for (const [options, field] of bad) {
      const error = caught(() => searchQaTasks("train", { seed: 0, count: 1, options }))
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).field).toBe(field)
    }
  })
})
