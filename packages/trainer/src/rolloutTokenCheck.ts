import type { Completion, GenerationRequest, TokenCheck } from "@icrl/core"
import { bannedIds, encodePrompt, type Tokenizer } from "./tokenizer.ts"

const preview = (text: string): string => JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}...` : text)

/**
 * Token ids for a completion whose engine returned none: the trainer's tokenization of its text,
 * followed, when the engine stopped, by what it cut from the text (end-of-sequence, or one of the
 * request's stop strings), whichever gives one id per log-prob. Text holding U+FFFD (bytes that
 * were no whole character) cannot be re-tokenized faithfully and gives none.
 */
const retokenized = (tokenizer: Tokenizer, request: GenerationRequest, completion: Completion): Array<number> | undefined => {
  if (completion.text.includes("\uFFFD")) return undefined
  const ids = tokenizer.encode(completion.text)
  const candidates =
    completion.finishReason === "length" ? [ids] : [ids, [...ids, tokenizer.eosId], ...(request.stop ?? []).map((stop) => tokenizer.encode(completion.text + stop))]
  return candidates.find((c) => c.length === completion.logprobs.length)
}

/**
 * Checks that the trainer can score exactly the tokens an engine sampled, so that training uses
 * the engine's log-probs as behaviour log-probs of the right tokens:
 *
 * - the engine read the prompt as as many tokens as the trainer's tokenizer does
 *   (`usage.prompt_tokens` against `encodePrompt`, capped by the context like the sampler);
 * - token ids: the engine's when it returned them (`return_tokens_as_token_ids`), else the
 *   trainer's tokenization of the text (see {@link retokenized}), which must give one id per log-prob;
 * - every id is one of the model's `vocabSize` output ids (which may exceed the tokenizer's) that
 *   the sampler may draw (not padding or beginning-of-sequence), and the ids decode to text that
 *   starts with the engine's text.
 *
 * A completion that fails any check is a mismatch naming what differed.
 *
 * @example
 * const check = rolloutTokenCheck(new ByteTokenizer(), model.config)
 * check(request, completion) // { kind: "ok", completion } or { kind: "mismatch", reason }
 */
export const rolloutTokenCheck =
  (tokenizer: Tokenizer, model: { readonly vocabSize: number; readonly maxSeqLen: number }) =>
  (request: GenerationRequest, completion: Completion): TokenCheck => {
    const mismatch = (reason: string): TokenCheck => ({ kind: "mismatch", reason })
    const promptTokens = Math.min(encodePrompt(tokenizer, request.prompt).length, model.maxSeqLen - 1)
    if (completion.promptTokens !== promptTokens) {
      return mismatch(`the engine read the prompt as ${completion.promptTokens} tokens, the trainer's tokenizer as ${promptTokens}`)
    }
    const engineIds = completion.tokenIds.every((id) => id >= 0)
    const ids = engineIds ? [...completion.tokenIds] : retokenized(tokenizer, request, completion)
    if (ids === undefined) {
      return mismatch(`the engine returned no token ids and the text ${preview(completion.text)} does not re-tokenize to its ${completion.logprobs.length} log-probs`)
    }
    const banned = bannedIds(tokenizer)
    const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || id >= model.vocabSize || banned.includes(id))
    if (bad !== undefined) return mismatch(`token id ${bad} is not one the sampler can draw from the model's ${model.vocabSize} output ids`)
    const decoded = tokenizer.decode(ids)
    if (!decoded.startsWith(completion.text)) {
      return mismatch(`the token ids decode to ${preview(decoded)}, the engine's text is ${preview(completion.text)}`)
    }
    return { kind: "ok", completion: { ...completion, tokenIds: ids } }
  }
