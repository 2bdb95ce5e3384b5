/**
 * The shop reference critic: replays an attempt, names the first wrong or missing part of the
 * purchase (product type, attribute, price, option) or the missing step, and gives tips from the
 * expert's choice.
 */
import { formatCritique } from "../critique.ts"
import { normalizeAction } from "../projection.ts"
import { ShopEnvironment } from "./environment.ts"
import { shopExpertChoice } from "./expert.ts"
import type { ShopTask } from "./task.ts"

/**
 * The reference critique of an attempt given as its action list: the first wrong or missing part
 * of the purchase, then tips from the expert's choice; at most `maxBytes` long in UTF-8.
 *
 * @example
 * shopCritique(task, ["search[slim fit jumpsuit]"]) // "Missing: no item was opened. <critic>Tip 1: ...</critic>"
 */
export const shopCritique = (task: ShopTask, actions: ReadonlyArray<string>, maxBytes = 157): string => {
  const env = new ShopEnvironment(task, { maxSteps: Number.MAX_SAFE_INTEGER, repeatLimit: 0, invalidActionPenalty: 0 })
  env.restart()
  let searched = false
  let opened = false
  for (const raw of actions) {
    const result = env.advance(normalizeAction(raw))
    if (result.info.actionValid && env.currentPage === "results") searched = true
    if (result.info.actionValid && env.currentPage === "item") opened = true
    if (result.terminated) break
  }
  const choice = shopExpertChoice(task)
  const asin = choice.product.asin
  const values = task.options.map(([, v]) => v)
  const select = values.length > 0 ? [`Select ${values.join(", ")}.`] : []
  const buy = [`Open item ${asin}.`, ...select, "Click Buy Now."]
  const say = (diagnosis: string, tips: ReadonlyArray<string>) => formatCritique(diagnosis, tips, maxBytes)
  const purchase = env.purchase
  if (purchase === undefined) {
    if (!searched) return say("Missing: no search was made.", [`Use search[${choice.query}].`, ...buy])
    if (!opened) return say("Missing: no item was opened.", buy)
    return say("Missing: Buy Now was never clicked.", buy)
  }
  const { breakdown, product, selected } = purchase
  if (breakdown.reward >= 1) return say("Correct: the purchase matches the task.", ["Do the same again."])
  if (product.type !== task.productType) {
    return say(`Wrong item: you bought ${product.type}, but the task asks for ${task.productType}.`, [`Use search[${choice.query}].`, ...buy])
  }
  const missing = task.attributes.find((a) => !product.attributes.includes(a))
  if (missing !== undefined) return say(`Wrong item: it is not ${missing}.`, buy)
  if (!breakdown.priceOk) return say(`Too expensive: $${product.price.toFixed(2)} is over the ${task.priceCeiling} dollar limit.`, buy)
  for (const [group, value] of task.options) {
    const chosen = selected.get(group)
    if (chosen === value) continue
    if (!product.options.some((g) => g.name === group && g.values.includes(value))) return say(`Wrong item: it has no ${group} ${value}.`, buy)
    return chosen === undefined
      ? say(`Missing option: ${value} for ${group} was not selected.`, [`Select ${value} before Buy Now.`])
      : say(`Wrong option: you chose ${chosen}, but the task needs ${group} ${value}.`, [`Select ${value} before Buy Now.`])
  }
  return say("Correct: the purchase matches the task.", ["Do the same again."])
}
