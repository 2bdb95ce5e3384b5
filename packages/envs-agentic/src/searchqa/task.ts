/**
 * Search QA tasks. Generated tasks are 1- to 3-hop questions built from relation paths of the
 * generated world ("In which city was the director of the film Silent River born?"), with their
 * gold answer, supporting documents and the searches that find them; deterministic per seed,
 * with train and test questions about disjoint entities. File tasks come from a questions JSONL
 * over a corpus JSONL (see loader.ts).
 */
import { ConfigError, DataError, hashString, mixSeed, Rng, type Split, type Task, type TaskOptions } from "@icrl/core"
import { resolve } from "node:path"
import { type AgenticLevel, agenticLevel } from "../level.ts"
import { normalizeAnswer } from "./answer.ts"
import { type FileCorpus, loadCorpusFile, loadQuestionsFile, type QuestionRecord } from "./loader.ts"
import { searchQaRelationsFrom, type Relation, type RelationName } from "./relations.ts"
import { type Entity, searchQaWorld, type SearchQaWorld } from "./world.ts"

/** One hop of a question: the document that holds its fact and the search that finds it. */
export interface SearchQaHop {
  /** Index of the supporting document in the corpus; -1 when a file question names none. */
  readonly doc: number
  /** Title of the supporting document. */
  readonly title: string
  /** The expert's search for this hop. */
  readonly query: string
  /** One lower-case word for what the hop looks for. */
  readonly think: string
  /** Generated: the entity the hop starts from ("Anna Berg"); file: the document title. */
  readonly entity: string
  /** Generated: the relation followed from the entity; file: "". */
  readonly relation: RelationName | ""
}

/** A search QA task. */
export interface SearchQaTask extends Task {
  readonly source: "generated" | "file"
  /** Generated: the world's seed; file tasks: -1. */
  readonly corpusSeed: number
  /** File tasks: the corpus JSONL (absolute path); generated: "". */
  readonly corpusPath: string
  /** Gold answers; the first is the one the expert gives. */
  readonly answers: ReadonlyArray<string>
  readonly hops: ReadonlyArray<SearchQaHop>
  /** Generated: entity indices from the topic to the answer (-1 for a year answer); file: []. */
  readonly path: ReadonlyArray<number>
}

/** An inclusive range of hop counts. */
export interface HopRange {
  readonly min: number
  readonly max: number
}

const mention = (e: Entity): string => {
  switch (e.type) {
    case "film":
    case "novel":
    case "album":
    case "company":
      return `the ${e.type} ${e.name}`
    case "person":
      return `the ${e.kind} ${e.name}`
    case "city":
      return `the city of ${e.name}`
    case "university":
    case "country":
      return e.name
  }
}

/**
 * The search that finds an entity's document: its name as the question writes it and the noun
 * that says what it is ("Anna Berg director", "Silent River film"). The name keeps its case
 * (search ignores case) so that a byte-level model copies it from the question unchanged.
 *
 * @example
 * entityQuery({ name: "Silent River", kind: "film" } as Entity) // "Silent River film"
 */
export const entityQuery = (e: Pick<Entity, "name" | "kind">): string =>
  e.name.toLowerCase().split(/\s+/).includes(e.kind) ? e.name : `${e.name} ${e.kind}`

const valueName = (world: SearchQaWorld, value: number | string | undefined): string =>
  typeof value === "number" ? world.entities[value]!.name : String(value)

const containsAnswer = (question: string, answer: string): boolean =>
  ` ${normalizeAnswer(question)} `.includes(` ${normalizeAnswer(answer)} `)

/**
 * Builds one question of `hops` hops starting from a topic entity of the split, or undefined
 * when the random walk fails (a repeated entity, or an answer that the question gives away).
 *
 * @example
 * generateQuestion(searchQaWorld(0), "train", new Rng(1), 2)?.text // "In which city was the director of ... born?"
 */
export const generateQuestion = (
  world: SearchQaWorld,
  split: Split,
  rng: Rng,
  hops: number,
): { readonly text: string; readonly answer: string; readonly hops: ReadonlyArray<SearchQaHop>; readonly path: ReadonlyArray<number> } | undefined => {
  const topic = rng.pick(world.topics[split])
  const path: Array<number> = [topic]
  const walk: Array<Relation> = []
  let current = world.entities[topic]!
  for (let j = 0; j < hops; j++) {
    const options = searchQaRelationsFrom[current.type].filter((rel) => j === hops - 1 || rel.range !== "year")
    if (options.length === 0) return undefined
    const rel = rng.pick(options)
    const value = current.facts[rel.name]
    walk.push(rel)
    if (typeof value === "number") {
      if (path.includes(value)) return undefined
      path.push(value)
      current = world.entities[value]!
    } else {
      path.push(-1)
    }
  }
  const last = path[path.length - 1]!
  const answer = last >= 0 ? world.entities[last]!.name : valueName(world, world.entities[path[path.length - 2]!]!.facts[walk.at(-1)!.name])
  let phrase = mention(world.entities[topic]!)
  for (let j = 0; j < hops - 1; j++) phrase = walk[j]!.phrase(phrase)
  const text = rng.pick(walk.at(-1)!.questions)(phrase)
  if (containsAnswer(text, answer)) return undefined
  const hopList = walk.map((rel, j): SearchQaHop => {
    const e = world.entities[path[j]!]!
    // A one-hop question is searched as asked (BM25 ranks its entity's passage first for 293 of
    // 300 level-1 test questions, and a copy of the whole line is easier than a cut-out name);
    // a hop of a longer question searches its entity by name.
    const query = hops === 1 ? text : entityQuery(e)
    return { doc: e.doc, title: world.docs[e.doc]!.title, query, think: rel.think, entity: e.name, relation: rel.name }
  })
  return { text, answer, hops: hopList, path }
}

const hopText = (hops: HopRange): string => `${hops.min}-${hops.max}`

/**
 * The generated task at position `index` of a split's sequence for (corpusSeed, hops, seed).
 * The hop count is drawn uniformly from the range.
 *
 * @example
 * searchQaTaskAt("train", 0, { min: 2, max: 2 }, 0, 0).hops.length // 2
 */
export const searchQaTaskAt = (split: Split, corpusSeed: number, hops: HopRange, seed: number, index: number): SearchQaTask => {
  const world = searchQaWorld(corpusSeed)
  const rng = new Rng(mixSeed(seed, index, split === "train" ? 0x5ea1 : 0x5e57, corpusSeed, hops.min * 8 + hops.max))
  const count = rng.range(hops.min, hops.max)
  for (let tries = 0; ; tries++) {
    const q = generateQuestion(world, split, rng, count)
    if (q !== undefined) {
      return {
        id: `searchqa/${split}/${corpusSeed}/${hopText(hops)}/${seed}/${index}`,
        split,
        text: q.text,
        source: "generated",
        corpusSeed,
        corpusPath: "",
        answers: [q.answer],
        hops: q.hops,
        path: q.path,
      }
    }
    if (tries > 10_000) throw new RangeError(`no ${count}-hop question found for corpus seed ${corpusSeed}`)
  }
}

const parseHops = (text: string): HopRange | undefined => {
  const m = /^([1-3])(?:-([1-3]))?$/.exec(text.trim())
  if (m === null) return undefined
  const min = Number(m[1])
  const max = m[2] === undefined ? min : Number(m[2])
  return min <= max ? { min, max } : undefined
}

const registry = new Map<string, SearchQaTask>()

/**
 * Rebuilds a task from its id: generated `searchqa/<split>/<corpusSeed>/<min>-<max>/<seed>/<index>`,
 * or a file task listed earlier in this process. Undefined when unknown or malformed.
 *
 * @example
 * searchQaTaskFromId("searchqa/test/0/1-3/0/4")?.split // "test"
 */
export const searchQaTaskFromId = (id: string): SearchQaTask | undefined => {
  const known = registry.get(id)
  if (known !== undefined) return known
  const parts = id.split("/")
  if (parts.length !== 6 || parts[0] !== "searchqa") return undefined
  const split = parts[1]
  if (split !== "train" && split !== "test") return undefined
  const hops = parseHops(parts[3] ?? "")
  if (hops === undefined) return undefined
  const numbers = [parts[2], parts[4], parts[5]].map((p) => (/^-?\d{1,10}$/.test(p ?? "") ? Number(p) : Number.NaN))
  if (numbers.some((n) => !Number.isSafeInteger(n))) return undefined
  const [corpusSeed, seed, index] = numbers as [number, number, number]
  if (index < 0 || corpusSeed < 0 || corpusSeed > 0xffff) return undefined
  return searchQaTaskAt(split, corpusSeed, hops, seed, index)
}

/** The task options searchqa understands. */
export const searchQaOptionKeys: ReadonlyArray<string> = ["difficulty", "corpus_seed", "hops", "questions", "data", "corpus", "test_questions", "test_fraction"]

/** The hop counts of generated questions at each difficulty level. */
export const searchQaLevelHops: Readonly<Record<AgenticLevel, HopRange>> = { 1: { min: 1, max: 1 }, 2: { min: 1, max: 2 }, 3: { min: 1, max: 3 } }

/** Task-generation knobs read from `TaskOptions.options`. */
export type SearchQaKnobs =
  | { readonly source: "generated"; readonly corpusSeed: number; readonly hops: HopRange }
  | {
      readonly source: "file"
      readonly questions: string
      readonly corpus: string
      readonly testQuestions: string | undefined
      readonly testFraction: number
    }

/**
 * Reads the options: generated questions (`corpus_seed`, default 0; `hops`, "1", "2", "3" or a
 * range like "1-3", by default the range of the `difficulty` level: 1, 1-2, 1-3) or a questions file (`questions=PATH` or `data=PATH`, with
 * `corpus=PATH`; optional `test_questions=PATH`, else `test_fraction` of the questions, default
 * 0.2, are test questions by a hash of their text). A bad value is a ConfigError naming the key.
 *
 * @example
 * searchQaKnobs({ hops: "2-3" }) // { source: "generated", corpusSeed: 0, hops: { min: 2, max: 3 } }
 * searchQaKnobs({ difficulty: "2" }) // { source: "generated", corpusSeed: 0, hops: { min: 1, max: 2 } }
 */
export const searchQaKnobs = (options: Readonly<Record<string, string>> | undefined): SearchQaKnobs => {
  const opts = options ?? {}
  for (const key of Object.keys(opts)) {
    if (!searchQaOptionKeys.includes(key)) throw new ConfigError({ field: key, detail: `unknown searchqa option; known: ${searchQaOptionKeys.join(", ")}` })
  }
  if (opts["questions"] !== undefined && opts["data"] !== undefined) {
    throw new ConfigError({ field: "data", detail: "give the questions file once: questions=PATH or data=PATH" })
  }
  const questions = opts["questions"] ?? opts["data"]
  const level = agenticLevel("searchqa", opts)
  if (questions !== undefined || opts["corpus"] !== undefined || opts["test_questions"] !== undefined) {
    for (const key of ["corpus_seed", "hops", "difficulty"]) {
      if (opts[key] !== undefined) throw new ConfigError({ field: key, detail: "applies to generated questions only, not to a questions file" })
    }
    if (questions === undefined || questions === "") {
      throw new ConfigError({ field: "questions", detail: "a corpus needs a questions file: questions=PATH (JSONL with question and answer)" })
    }
    const corpus = opts["corpus"]
    if (corpus === undefined || corpus === "") {
      throw new ConfigError({ field: "corpus", detail: "a questions file needs a corpus: corpus=PATH (JSONL of {id, title, text})" })
    }
    const fractionText = opts["test_fraction"] ?? "0.2"
    const testFraction = Number(fractionText)
    if (fractionText.trim() === "" || !Number.isFinite(testFraction) || testFraction < 0 || testFraction > 1) {
      throw new ConfigError({ field: "test_fraction", detail: `"${fractionText}" is not a number in [0, 1]` })
    }
    const testQuestions = opts["test_questions"]
    if (testQuestions === "") throw new ConfigError({ field: "test_questions", detail: "is empty" })
    return { source: "file", questions, corpus, testQuestions, testFraction }
  }
  if (opts["test_fraction"] !== undefined) throw new ConfigError({ field: "test_fraction", detail: "applies to a questions file only" })
  const seedText = opts["corpus_seed"] ?? "0"
  if (!/^\d{1,5}$/.test(seedText) || Number(seedText) > 0xffff) {
    throw new ConfigError({ field: "corpus_seed", detail: `"${seedText}" is not an integer in [0, 65535]` })
  }
  const hops = opts["hops"] === undefined ? searchQaLevelHops[level] : parseHops(opts["hops"])
  if (hops === undefined) throw new ConfigError({ field: "hops", detail: `"${opts["hops"]}" is not 1, 2, 3 or a range like 1-3` })
  return { source: "generated", corpusSeed: Number(seedText), hops }
}

const questionKey = (question: string): string => question.replace(/\s+/g, " ").trim().toLowerCase()

const maxQueryChars = 150

const fileHops = (record: QuestionRecord, corpus: FileCorpus): Array<SearchQaHop> => {
  const docs: Array<number> = []
  for (const id of record.supportingIds) {
    const d = corpus.byId.get(id)
    if (d !== undefined && !docs.includes(d)) docs.push(d)
  }
  for (const title of record.supportingTitles) {
    const d = corpus.byTitle.get(title.trim().toLowerCase())?.[0]
    if (d !== undefined && !docs.includes(d)) docs.push(d)
  }
  if (docs.length === 0) {
    return [{ doc: -1, title: "", query: record.question.slice(0, maxQueryChars).trim(), think: "search", entity: "", relation: "" }]
  }
  return docs.map((d) => {
    const doc = corpus.docs[d]!
    const basis = doc.title !== "" ? doc.title : doc.text.split(/\s+/).slice(0, 8).join(" ")
    const query = basis.replace(/[[\]]/g, " ").replace(/\s+/g, " ").trim().slice(0, maxQueryChars)
    return { doc: d, title: doc.title, query: query === "" ? record.question.slice(0, maxQueryChars) : query, think: "passage", entity: doc.title, relation: "" }
  })
}

const splitByHash = (question: string, fraction: number): Split =>
  hashString(`searchqa:${questionKey(question)}`) / 4294967296 < fraction ? "test" : "train"

const fileTasks = (split: Split, knobs: Extract<SearchQaKnobs, { source: "file" }>, offset: number, count: number): Array<SearchQaTask> => {
  const corpus = loadCorpusFile(knobs.corpus)
  const file = split === "test" && knobs.testQuestions !== undefined ? knobs.testQuestions : knobs.questions
  const records = loadQuestionsFile(file)
  let inSplit: (r: QuestionRecord) => boolean
  if (knobs.testQuestions === undefined) inSplit = (r) => splitByHash(r.question, knobs.testFraction) === split
  else if (split === "train") {
    const held = new Set(loadQuestionsFile(knobs.testQuestions).map((r) => questionKey(r.question)))
    inSplit = (r) => !held.has(questionKey(r.question))
  } else inSplit = () => true
  const tag = hashString(`${resolve(file)}\n${corpus.key}`).toString(16).padStart(8, "0")
  const seen = new Set<string>()
  const out: Array<SearchQaTask> = []
  let skip = offset
  for (const record of records) {
    if (out.length >= count) break
    if (!inSplit(record)) continue
    const key = questionKey(record.question)
    if (seen.has(key)) continue
    seen.add(key)
    if (skip > 0) {
      skip--
      continue
    }
    const task: SearchQaTask = {
      id: `searchqa/file/${split}/${tag}/${record.line}`,
      split,
      text: record.question,
      source: "file",
      corpusSeed: -1,
      corpusPath: corpus.key,
      answers: record.answers,
      hops: fileHops(record, corpus),
      path: [],
    }
    if (registry.size > 500_000) registry.clear()
    registry.set(task.id, task)
    out.push(task)
  }
  // Nothing taken from the start of a split: the file holds nothing for it.
  if (out.length === 0 && count > 0 && offset === 0) {
    const reason =
      records.length === 0
        ? "holds no questions (the file is empty)"
        : knobs.testQuestions === undefined
          ? `none of its ${records.length} questions falls in the ${split} split (test_fraction ${knobs.testFraction}); use a larger file, another test_fraction, or test_questions`
          : `all of its ${records.length} questions are also in test_questions (${knobs.testQuestions})`
    throw new DataError({ file, reason })
  }
  return out
}

/**
 * The tasks of a split: generated questions by default, or the questions of a file (options above).
 *
 * @example
 * searchQaTasks("test", { seed: 0, count: 10 }).length // 10
 * searchQaTasks("train", { seed: 0, count: 5, options: { questions: "q.jsonl", corpus: "c.jsonl" } })
 */
export const searchQaTasks = (split: Split, options: TaskOptions): Array<SearchQaTask> => {
  const knobs = searchQaKnobs(options.options)
  const offset = options.offset ?? 0
  if (knobs.source === "file") return fileTasks(split, knobs, offset, options.count)
  return Array.from({ length: options.count }, (_, i) => searchQaTaskAt(split, knobs.corpusSeed, knobs.hops, options.seed, offset + i))
}
