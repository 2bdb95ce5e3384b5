/**
 * The searchqa Environment: `search[query]` shows the top-k passages of a BM25 ranking over the
 * corpus, `answer[text]` ends the episode with reward 1 for an exact match (after answer
 * normalization) and token F1 as `info.score`. Searches are capped; the step cap leaves room for
 * the searches and the answer.
 */
import { TaskNotFound, type Environment, type ResetOptions, type ResetResult, type StepResult } from "@icrl/core"
import { Effect } from "effect"
import { EpisodeClock, type EpisodeRules } from "../episodeRules.ts"
import { episodeOverStep, normalizeAction, penalizedReward } from "../projection.ts"
import { exactMatch, tokenF1 } from "./answer.ts"
import { loadCorpusFile } from "./loader.ts"
import { type SearchQaTask, searchQaTaskFromId } from "./task.ts"
import { passageText, type SearchCorpus, searchQaWorld } from "./world.ts"

/** The admissible search action (any query in the brackets is accepted). */
export const SEARCH_QA_SEARCH = "search[<query>]"

/** The admissible answer action (any text in the brackets is accepted). */
export const SEARCH_QA_ANSWER = "answer[<text>]"

/** Settings an episode runs under. */
export interface SearchQaSettings extends EpisodeRules {
  /** Searches allowed per episode. */
  readonly maxSearches: number
  /** Passages shown per search. */
  readonly topK: number
  /** Longest passage shown (characters, title included). */
  readonly passageChars: number
  readonly invalidActionPenalty: number
}

/** One search of an episode. */
export interface SearchRecord {
  readonly query: string
  /** Document indices shown, best first. */
  readonly docs: ReadonlyArray<number>
}

const maxRawAction = 1000
const maxShownQuery = 60

/**
 * The corpus a task searches: the generated world of its seed, or its corpus file.
 *
 * @example
 * corpusOf(task).docs.length // a few thousand for generated tasks
 */
export const corpusOf = (task: SearchQaTask): SearchCorpus =>
  task.source === "generated" ? searchQaWorld(task.corpusSeed) : loadCorpusFile(task.corpusPath)

const clipQuery = (q: string): string => (q.length <= maxShownQuery ? q : `${q.slice(0, maxShownQuery - 3)}...`)

/**
 * A searchqa episode. `step` never throws; anything but a well-formed search (while searches
 * are left) or answer is an invalid step whose observation repeats the current page.
 *
 * @example
 * const env = new SearchQaEnvironment(task, { maxSearches: 4, topK: 3, passageChars: 160, maxSteps: 5, repeatLimit: 3, invalidActionPenalty: 0.1 })
 * env.reset({ seed: 0 })
 * env.step("search[silent river film]").observation // 'Results for "silent river film" (3 searches left):\n1. ...'
 */
export class SearchQaEnvironment implements Environment {
  private task: SearchQaTask
  private corpus: SearchCorpus
  private readonly clock: EpisodeClock
  private searches: Array<SearchRecord> = []
  private given: string | undefined
  private terminated = false
  private truncated = false
  private won = false
  private score = 0
  private page = ""

  constructor(
    task: SearchQaTask,
    private readonly settings: SearchQaSettings,
  ) {
    this.task = task
    this.corpus = corpusOf(task)
    this.clock = new EpisodeClock(settings)
    this.page = this.startPage()
  }

  private left(): number {
    return Math.max(0, this.settings.maxSearches - this.searches.length)
  }

  private leftText(): string {
    const n = this.left()
    return `${n} ${n === 1 ? "search" : "searches"} left`
  }

  private startPage(): string {
    return `No passages yet (${this.leftText()}). Use search[query], then answer[text].`
  }

  private admissible(): Array<string> {
    if (this.terminated || this.truncated) return []
    return this.left() > 0 ? [SEARCH_QA_SEARCH, SEARCH_QA_ANSWER] : [SEARCH_QA_ANSWER]
  }

  reset(options: ResetOptions): Effect.Effect<ResetResult, TaskNotFound> {
    return Effect.suspend(() => {
      if (options.taskId !== undefined && options.taskId !== this.task.id) {
        const next = searchQaTaskFromId(options.taskId)
        if (next === undefined) return Effect.fail(new TaskNotFound({ env: "searchqa", taskId: options.taskId }))
        this.task = next
        this.corpus = corpusOf(next)
      }
      return Effect.succeed(this.restart())
    })
  }

  /** Back to the initial state of the current task, synchronously (what `reset` runs). */
  restart(): ResetResult {
    this.clock.reset()
    this.searches = []
    this.given = undefined
    this.terminated = false
    this.truncated = false
    this.won = false
    this.score = 0
    this.page = this.startPage()
    return { observation: this.page, info: { won: false, actionValid: true, admissibleActions: this.admissible(), score: 0, steps: 0, searches: 0 } }
  }

  /** The searches made so far, in order. */
  get searchLog(): ReadonlyArray<SearchRecord> {
    return this.searches
  }

  /** The answer given, once the episode ended with one. */
  get answer(): string | undefined {
    return this.given
  }

  /** The corpus this episode searches. */
  get documents(): SearchCorpus {
    return this.corpus
  }

  private search(query: string): void {
    const docs = this.corpus.index.search(query, this.settings.topK).map((h) => h.doc)
    this.searches.push({ query, docs })
    const shown = clipQuery(query)
    if (docs.length === 0) {
      this.page = `No results for "${shown}" (${this.leftText()}).`
      return
    }
    let text = `Results for "${shown}" (${this.leftText()}):`
    docs.forEach((d, i) => {
      text += `\n${i + 1}. ${passageText(this.corpus.docs[d]!, this.settings.passageChars)}`
    })
    this.page = text
  }

  step(action: string): Effect.Effect<StepResult> {
    return Effect.sync(() => this.advance(action))
  }

  /** One step, synchronously (what `step` runs): the fast path for scripted replays. */
  advance(action: string): StepResult {
    if (this.terminated || this.truncated) return episodeOverStep(this.terminated, this.truncated, { won: this.won, score: this.score, steps: this.clock.steps, searches: this.searches.length })
    const text = typeof action === "string" && action.length <= maxRawAction ? normalizeAction(action) : ""
    const stop = this.clock.tick(text)
    let valid = false
    let observation: string
    let reward = 0
    if (text.startsWith("search[") && text.endsWith("]") && text.slice(7, -1).trim() !== "") {
      if (this.left() > 0) {
        this.search(text.slice(7, -1).trim())
        valid = true
        observation = this.page
      } else {
        observation = `No searches left: use answer[text].\n${this.page}`
      }
    } else if (text.startsWith("answer[") && text.endsWith("]") && text.slice(7, -1).trim() !== "") {
      const given = text.slice(7, -1).trim()
      this.given = given
      this.won = exactMatch(given, this.task.answers)
      this.score = tokenF1(given, this.task.answers)
      this.terminated = true
      valid = true
      reward = this.won ? 1 : 0
      observation = `You answered "${clipQuery(given)}".`
    } else {
      observation = `Invalid action. Use search[query] or answer[text].\n${this.page}`
    }
    this.truncated = !this.terminated && stop
    return {
      observation,
      reward: penalizedReward(reward, valid, this.settings.invalidActionPenalty),
      terminated: this.terminated,
      truncated: this.truncated,
      info: {
        won: this.won,
        actionValid: valid,
        admissibleActions: this.admissible(),
        score: this.score,
        steps: this.clock.steps,
        searches: this.searches.length,
      },
    }
  }
}
