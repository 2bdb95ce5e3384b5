/**
 * Procedural household layouts: a room with numbered receptacles, objects placed by the
 * vocabulary's plausibility rules, and a goal of one of the six task types. A layout is a pure
 * function of (task type, world seed, size).
 */
import { Rng } from "@icrl/core"
import {
  applianceOf,
  containerReceptacles,
  type HouseholdSize,
  type HouseholdTaskType,
  lampPlaces,
  neverTargets,
  openableReceptacles,
  receptacleCount,
  roomObjects,
  roomReceptacles,
  roomsFor,
  type RoomKind,
  transformable,
} from "./vocabulary.ts"

export interface LayoutReceptacle {
  readonly name: string
  readonly kind: string
  readonly openable: boolean
}

export interface LayoutObject {
  readonly name: string
  readonly kind: string
  /** False for fixtures such as the desk lamp. */
  readonly pickable: boolean
  /** Index of the receptacle it starts in. */
  readonly location: number
}

/** A generated room and goal. */
export interface HouseholdLayout {
  readonly type: HouseholdTaskType
  readonly room: RoomKind
  /** The object kind the goal is about ("mug"). */
  readonly goalObject: string
  /** The receptacle kind the goal object must end up in; "" for look tasks. */
  readonly goalReceptacle: string
  /** ALFWorld-style goal sentence, e.g. "put a clean mug in coffeemachine." */
  readonly goal: string
  readonly receptacles: ReadonlyArray<LayoutReceptacle>
  readonly objects: ReadonlyArray<LayoutObject>
  /** Index of the desk lamp object, or -1. */
  readonly lamp: number
}

/** "in" for containers, "on" for surfaces. */
export const prepositionOf = (receptacleKind: string): "in" | "on" => (containerReceptacles.has(receptacleKind) ? "in" : "on")

const goalSentence = (rng: Rng, type: HouseholdTaskType, g: string, r: string): string => {
  const p = prepositionOf(r)
  const variant = rng.int(2)
  switch (type) {
    case "pick":
      return variant === 0 ? `put a ${g} ${p} ${r}.` : `put some ${g} ${p} ${r}.`
    case "clean":
      return variant === 0 ? `put a clean ${g} ${p} ${r}.` : `clean some ${g} and put it ${p} ${r}.`
    case "heat":
      return variant === 0 ? `put a hot ${g} ${p} ${r}.` : `heat some ${g} and put it ${p} ${r}.`
    case "cool":
      return variant === 0 ? `put a cool ${g} ${p} ${r}.` : `cool some ${g} and put it ${p} ${r}.`
    case "look":
      return variant === 0 ? `look at ${g} under the desklamp.` : `examine the ${g} with the desklamp.`
    case "pick-two":
      return variant === 0 ? `put two ${g} ${p} ${r}.` : `find two ${g} and put them ${p} ${r}.`
  }
}

/** A layout with its goal sentence (drawn last from `rng`). */
const withGoal = (rng: Rng, parts: Omit<HouseholdLayout, "goal">): HouseholdLayout => ({
  ...parts,
  goal: goalSentence(rng, parts.type, parts.goalObject, parts.goalReceptacle),
})

const tryGenerate = (rng: Rng, type: HouseholdTaskType, size: "small" | "full"): HouseholdLayout | undefined => {
  const room = rng.pick(roomsFor[type])
  const receptacles: Array<LayoutReceptacle> = []
  const byKind = new Map<string, Array<number>>()
  for (const [kind, min, max] of roomReceptacles[room]) {
    const [lo, hi] = receptacleCount(size, min, max)
    const n = rng.range(lo, hi)
    for (let i = 1; i <= n; i++) {
      byKind.set(kind, [...(byKind.get(kind) ?? []), receptacles.length])
      receptacles.push({ name: `${kind} ${i}`, kind, openable: openableReceptacles.has(kind) })
    }
  }
  const objectSpec = roomObjects[room]
  const places = new Map<string, ReadonlyArray<string>>()
  for (const [kind, allowed] of Object.entries(objectSpec)) {
    const present = allowed.filter((r) => byKind.has(r))
    if (present.length > 0) places.set(kind, present)
  }
  const placesOf = (kind: string): ReadonlyArray<string> => places.get(kind) ?? []
  const kinds = [...places.keys()]

  const pairs: Array<readonly [string, string]> = []
  if (type === "look") {
    for (const g of kinds) pairs.push([g, ""])
  } else {
    const candidates = type === "pick" || type === "pick-two" ? kinds : kinds.filter((k) => transformable[type].has(k))
    for (const g of candidates) {
      const spots = placesOf(g)
      if (spots.length < 2) continue
      for (const r of spots) {
        if (neverTargets.has(r)) continue
        if (type !== "pick" && type !== "pick-two" && r === applianceOf[type]) continue
        pairs.push([g, r])
      }
    }
  }
  if (pairs.length === 0) return undefined
  const [goalObject, goalReceptacle] = rng.pick(pairs)

  const objects: Array<LayoutObject> = []
  const counts = new Map<string, number>()
  const place = (kind: string, allowed: ReadonlyArray<string>, pickable: boolean): boolean => {
    const spots: Array<number> = []
    for (const r of allowed) for (const idx of byKind.get(r) ?? []) spots.push(idx)
    if (spots.length === 0) return false
    const n = (counts.get(kind) ?? 0) + 1
    counts.set(kind, n)
    objects.push({ name: `${kind} ${n}`, kind, pickable, location: rng.pick(spots) })
    return true
  }
  let lamp = -1
  if (room === "bedroom" || room === "livingroom") {
    lamp = objects.length
    if (!place("desklamp", lampPlaces, false)) return undefined
  }
  const toPlace: Array<string> = []
  const goalCount = (type === "pick-two" ? 2 : 1) + (rng.chance(0.3) ? 1 : 0)
  for (let i = 0; i < goalCount; i++) toPlace.push(goalObject)
  const distractors = size === "small" ? rng.range(4, 8) : rng.range(10, 20)
  for (let i = 0; i < distractors; i++) toPlace.push(rng.pick(kinds))
  for (const kind of rng.shuffle(toPlace)) {
    const allowed = kind === goalObject ? placesOf(kind).filter((r) => r !== goalReceptacle) : placesOf(kind)
    if (!place(kind, allowed, true)) return undefined
  }
  return withGoal(rng, { type, room, goalObject, goalReceptacle, receptacles, objects, lamp })
}

/**
 * A tiny room: the goal's target receptacle, `sourceCount` surfaces where the goal object may
 * lie (it lies on one of them), the appliance of a clean/heat/cool task or the lamp's table of a
 * look task; one of each kind, nothing to open but an appliance; `others` other objects (a range).
 */
const tryGenerateTiny = (rng: Rng, type: HouseholdTaskType, sourceCount: number, others: readonly [number, number]): HouseholdLayout | undefined => {
  const room = rng.pick(roomsFor[type])
  const kinds = roomReceptacles[room].map(([kind]) => kind)
  const transform = type === "clean" || type === "heat" || type === "cool" ? type : undefined
  const appliance = transform === undefined ? "" : applianceOf[transform]
  if (appliance !== "" && !kinds.includes(appliance)) return undefined
  const surfaces = kinds.filter((k) => !openableReceptacles.has(k) && k !== appliance)
  const objectSpec = roomObjects[room]
  const placesOf = (kind: string): ReadonlyArray<string> => objectSpec[kind] ?? []
  const sourcesOf = (g: string, avoid: string) => placesOf(g).filter((k) => surfaces.includes(k) && k !== avoid)
  const lampPlace = type === "look" ? lampPlaces.filter((k) => surfaces.includes(k)) : []
  const lampAt = lampPlace.length > 0 ? rng.pick(lampPlace) : ""
  if (type === "look" && lampAt === "") return undefined
  const pairs: Array<readonly [string, string]> = []
  for (const g of Object.keys(objectSpec)) {
    if (transform !== undefined && !transformable[transform].has(g)) continue
    if (type === "look") {
      if (sourcesOf(g, lampAt).length > 0) pairs.push([g, ""])
      continue
    }
    for (const r of placesOf(g)) {
      if (surfaces.includes(r) && !neverTargets.has(r) && sourcesOf(g, r).length > 0) pairs.push([g, r])
    }
  }
  if (pairs.length === 0) return undefined
  const [goalObject, goalReceptacle] = rng.pick(pairs)
  const candidates = sourcesOf(goalObject, type === "look" ? lampAt : goalReceptacle)
  const sources = rng.sample(candidates, Math.min(sourceCount, candidates.length))
  const present = new Set([goalReceptacle, appliance, lampAt, ...sources].filter((k) => k !== ""))
  const receptacles: Array<LayoutReceptacle> = kinds
    .filter((k) => present.has(k))
    .map((kind) => ({ name: `${kind} 1`, kind, openable: openableReceptacles.has(kind) }))
  const index = (kind: string) => receptacles.findIndex((r) => r.kind === kind)
  const objects: Array<LayoutObject> = []
  const counts = new Map<string, number>()
  const place = (kind: string, where: number, pickable: boolean) => {
    const n = (counts.get(kind) ?? 0) + 1
    counts.set(kind, n)
    objects.push({ name: `${kind} ${n}`, kind, pickable, location: where })
  }
  let lamp = -1
  if (lampAt !== "") {
    lamp = objects.length
    place("desklamp", index(lampAt), false)
  }
  const spots = (kind: string) => placesOf(kind).filter((k) => present.has(k) && !openableReceptacles.has(k))
  const extra = Object.keys(objectSpec).filter((k) => k !== goalObject && spots(k).length > 0)
  const toPlace: Array<string> = Array.from({ length: type === "pick-two" ? 2 : 1 }, () => goalObject)
  toPlace.push(...rng.sample(extra, Math.min(extra.length, rng.range(others[0], others[1]))))
  for (const kind of rng.shuffle(toPlace)) {
    place(kind, index(kind === goalObject ? rng.pick(sources) : rng.pick(spots(kind))), true)
  }
  return withGoal(rng, { type, room, goalObject, goalReceptacle, receptacles, objects, lamp })
}

/**
 * Generates the layout of a household task.
 *
 * @example
 * generateLayout("clean", 12345, "small").goal // e.g. "put a clean mug in coffeemachine."
 */
export const generateLayout = (type: HouseholdTaskType, worldSeed: number, size: HouseholdSize): HouseholdLayout => {
  const rng = new Rng(worldSeed)
  for (;;) {
    const layout =
      size === "single" ? tryGenerateTiny(rng, type, 1, [0, 1]) : size === "tiny" ? tryGenerateTiny(rng, type, 2, [1, 2]) : tryGenerate(rng, type, size)
    if (layout !== undefined) return layout
  }
}
