/**
 * The household reference critic: replays an attempt, compares it with the expert's plan, names
 * the first missing or wrong subgoal and gives tips taken from the expert's plan (from the
 * initial state, where the retry starts).
 */
import { formatCritique } from "../critique.ts"
import { normalizeAction } from "../projection.ts"
import { expertChoice } from "./expert.ts"
import { prepositionOf } from "./layout.ts"
import { householdLayout, type HouseholdTask } from "./task.ts"
import { Command, HouseholdWorld } from "./world.ts"

const past: Record<string, string> = { clean: "cleaned", heat: "heated", cool: "cooled" }
const gerund: Record<string, string> = { clean: "cleaning", heat: "heating", cool: "cooling" }
const adjective: Record<string, string> = { clean: "clean", heat: "hot", cool: "cool" }
const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1)

/** English plural of an object kind ("knife" -> "knives", "box" -> "boxes"). */
export const pluralOf = (kind: string): string =>
  kind.endsWith("knife")
    ? `${kind.slice(0, -2)}ves`
    : /(s|x|ch|sh|o)$/.test(kind)
      ? `${kind}es`
      : `${kind}s`

/** What a replayed attempt did, as far as the critic cares. */
interface AttemptFacts {
  won: boolean
  tookGoal: boolean
  firstWrongTaken: number
  wrongTransform: { object: number; verb: string } | undefined
  transformedGoal: boolean
  placedBeforeTransform: boolean
  wrongPlace: number
  lampWithoutObject: boolean
}

const replay = (task: HouseholdTask, actions: ReadonlyArray<string>): { facts: AttemptFacts; world: HouseholdWorld } => {
  const layout = householdLayout(task)
  const world = new HouseholdWorld(layout)
  const goalKind = layout.goalObject
  const transform = layout.type === "clean" || layout.type === "heat" || layout.type === "cool" ? layout.type : undefined
  const facts: AttemptFacts = {
    won: false,
    tookGoal: false,
    firstWrongTaken: -1,
    wrongTransform: undefined,
    transformedGoal: false,
    placedBeforeTransform: false,
    wrongPlace: -1,
    lampWithoutObject: false,
  }
  for (const raw of actions) {
    if (facts.won) break
    const result = world.act(normalizeAction(raw))
    const c = result.command
    if (c !== undefined) {
      const isGoal = c.a >= 0 && c.kind !== Command.goTo && layout.objects[c.a]?.kind === goalKind
      switch (c.kind) {
        case Command.take:
          if (isGoal) facts.tookGoal = true
          else if (!facts.tookGoal && facts.firstWrongTaken < 0) facts.firstWrongTaken = c.a
          break
        case Command.heat:
        case Command.clean:
        case Command.cool: {
          const verb = c.kind === Command.heat ? "heat" : c.kind === Command.clean ? "clean" : "cool"
          if (isGoal && verb === transform) facts.transformedGoal = true
          else if (isGoal && transform !== undefined && facts.wrongTransform === undefined) facts.wrongTransform = { object: c.a, verb }
          break
        }
        case Command.move: {
          if (!isGoal) break
          const kind = layout.receptacles[c.b]!.kind
          if (kind === layout.goalReceptacle) {
            const ready =
              transform === undefined ||
              (transform === "clean" ? world.clean[c.a] === 1 : transform === "heat" ? world.hot[c.a] === 1 : world.cool[c.a] === 1)
            if (!ready) facts.placedBeforeTransform = true
          } else if (facts.wrongPlace < 0) facts.wrongPlace = c.b
          break
        }
        case Command.use:
          if (world.holding < 0 || layout.objects[world.holding]!.kind !== goalKind) facts.lampWithoutObject = true
          break
      }
    }
    if (world.won()) facts.won = true
  }
  return { facts, world }
}

/**
 * The reference critique of an attempt given as its action list: the first missing or wrong
 * subgoal, then up to three tips that finish the task from the initial state (where the retry
 * starts), taken from the expert's plan; at most `maxBytes` long in UTF-8 (tips are dropped to fit).
 *
 * @example
 * householdCritique(task, ["go to countertop 1", "take mug 1 from countertop 1"])
 * // "Missing: clean the mug with the sinkbasin 1 before putting it in the coffeemachine. <critic>Tip 1: ...</critic>"
 */
export const householdCritique = (task: HouseholdTask, actions: ReadonlyArray<string>, maxBytes = 173): string => {
  const layout = householdLayout(task)
  const { facts, world } = replay(task, actions)
  if (facts.won) return formatCritique("Correct: the task is complete.", ["Do the same again."], maxBytes)
  const choice = expertChoice(layout)
  const g = layout.goalObject
  const objName = (o: number) => layout.objects[o]!.name
  const recName = (r: number) => layout.receptacles[r]!.name
  const whereIs = (o: number) => {
    const r = layout.objects[o]!.location
    return `${prepositionOf(layout.receptacles[r]!.kind)} the ${recName(r)}`
  }
  const first = choice.objects[0]!
  const transform = choice.transform
  const target = choice.target
  const p = prepositionOf(layout.goalReceptacle)
  const fetch = (o: number) => `Take the ${objName(o)} from the ${recName(layout.objects[o]!.location)}.`
  const transformTip = transform === undefined ? [] : [`${capital(transform)} it with the ${recName(choice.appliance)}.`]
  const finish =
    layout.type === "look"
      ? [`Use the desklamp at the ${recName(layout.objects[layout.lamp]!.location)} while holding it.`]
      : [`Put it ${p} the ${recName(target)}.`]
  const plan = [fetch(first), ...transformTip, ...finish]
  const say = (diagnosis: string, tips: ReadonlyArray<string>) => formatCritique(diagnosis, tips, maxBytes)
  if (!facts.tookGoal) {
    if (facts.firstWrongTaken >= 0) return say(`Wrong object: you took the ${objName(facts.firstWrongTaken)}, not a ${g}.`, plan)
    return say(`Missing: you never took a ${g}; the ${objName(first)} is ${whereIs(first)}.`, plan)
  }
  if (layout.type === "look") {
    const lampAt = layout.objects[layout.lamp]!.location
    if (facts.lampWithoutObject) return say(`Wrong order: you used the desklamp without holding the ${g}.`, plan)
    return say(`Missing: you never used the desklamp at the ${recName(lampAt)} while holding the ${g}.`, plan)
  }
  if (transform !== undefined && !facts.transformedGoal) {
    if (facts.wrongTransform !== undefined) {
      return say(`Wrong step: you ${past[facts.wrongTransform.verb]} the ${objName(facts.wrongTransform.object)}; it must be ${adjective[transform]}.`, plan)
    }
    if (facts.placedBeforeTransform) {
      return say(`Wrong order: you put the ${g} ${p} the ${layout.goalReceptacle} before ${gerund[transform]} it.`, plan)
    }
    return say(`Missing: you never ${past[transform]} the ${g}.`, plan)
  }
  const ready = transform === undefined ? "" : `${adjective[transform]} `
  if (layout.type === "pick-two") {
    let best = 0
    let spread = 0
    for (let r = 0; r < layout.receptacles.length; r++) {
      if (layout.receptacles[r]!.kind !== layout.goalReceptacle) continue
      const n = world.contents[r]!.filter((o) => layout.objects[o]!.kind === g).length
      if (n > 0) spread++
      best = Math.max(best, n)
    }
    if (best === 1 && spread > 1) {
      return say(`Wrong place: both ${pluralOf(g)} must go in the same ${layout.goalReceptacle}.`, [`Put both ${p} the ${recName(target)}.`])
    }
    if (best === 1) {
      const inGoal = (o: number) => {
        const r = world.location[o]!
        return r >= 0 && layout.receptacles[r]!.kind === layout.goalReceptacle
      }
      const second = choice.objects.find((o) => !inGoal(o)) ?? first
      return say(`Missing: a second ${g}.`, [fetch(second), ...transformTip, `Put it ${p} the ${recName(target)} too.`])
    }
  }
  if (facts.wrongPlace >= 0) {
    return say(`Wrong place: you put the ${g} ${prepositionOf(layout.receptacles[facts.wrongPlace]!.kind)} the ${recName(facts.wrongPlace)}.`, finish)
  }
  const count = layout.type === "pick-two" ? `two ${ready}${pluralOf(g)}` : `the ${ready}${g}`
  return say(`Missing: you never put ${count} ${p} the ${layout.goalReceptacle}.`, layout.type === "pick-two" ? plan : finish)
}
