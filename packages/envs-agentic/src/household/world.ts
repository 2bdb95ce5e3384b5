/**
 * The household simulator: mutable state over a layout, the ALFWorld command grammar with its
 * preconditions, ALFWorld-style observation sentences, admissible actions and the goal test.
 */
import type { HouseholdLayout } from "./layout.ts"

/** Command kinds, in the order their admissible strings are listed. */
export const Command = {
  examineReceptacle: 0,
  open: 1,
  close: 2,
  take: 3,
  move: 4,
  heat: 5,
  clean: 6,
  cool: 7,
  use: 8,
  examineObject: 9,
  goTo: 10,
  inventory: 11,
  look: 12,
} as const
export type CommandKind = (typeof Command)[keyof typeof Command]

/** A command decoded from an admissible action: its kind and operand indices. */
export interface DecodedCommand {
  readonly kind: CommandKind
  /** Receptacle index (go to, open, close, examine) or object index (take, move, heat, ...). */
  readonly a: number
  /** Receptacle index for take/move/heat/clean/cool; -1 otherwise. */
  readonly b: number
}

/** What one command did. */
export interface ActResult {
  readonly valid: boolean
  readonly observation: string
  /** The executed command (undefined when invalid). */
  readonly command: DecodedCommand | undefined
}

export const NOTHING_HAPPENS = "Nothing happens."

const HELD = -1

/** "a mug 1, a cup 2, and a fork 1" in ALFWorld's listing style; "nothing" when empty. */
export const listItems = (names: ReadonlyArray<string>): string => {
  const n = names.length
  if (n === 0) return "nothing"
  if (n === 1) return `a ${names[0]}`
  let out = ""
  for (let i = 0; i < n; i++) {
    if (i > 0) out += i === n - 1 ? ", and " : ", "
    out += `a ${names[i]}`
  }
  return out
}

/**
 * The mutable state of one household episode.
 *
 * @example
 * const world = new HouseholdWorld(generateLayout("pick", 1, "small"))
 * world.admissible() // ["go to cabinet 1", ..., "inventory", "look"]
 */
export class HouseholdWorld {
  readonly layout: HouseholdLayout
  /** Agent location: receptacle index, or -1 in the middle of the room. */
  at = -1
  /** Held object index, or -1. */
  holding = -1
  lampOn = false
  readonly isOpen: Uint8Array
  readonly contents: Array<Array<number>>
  readonly location: Int16Array
  readonly clean: Uint8Array
  readonly hot: Uint8Array
  readonly cool: Uint8Array

  private readonly goTo: ReadonlyArray<string>
  private readonly openText: ReadonlyArray<string>
  private readonly closeText: ReadonlyArray<string>
  private readonly examineText: ReadonlyArray<string>
  private readonly pairText: Map<number, string> = new Map()
  private readonly goalObject: string
  private readonly goalReceptacle: string
  private cachedActions: Array<string> | undefined
  private cachedCommands: Array<DecodedCommand> = []

  constructor(layout: HouseholdLayout) {
    this.layout = layout
    const nr = layout.receptacles.length
    const no = layout.objects.length
    this.isOpen = new Uint8Array(nr)
    this.contents = Array.from({ length: nr }, () => [])
    this.location = new Int16Array(no)
    this.clean = new Uint8Array(no)
    this.hot = new Uint8Array(no)
    this.cool = new Uint8Array(no)
    this.goTo = layout.receptacles.map((r) => `go to ${r.name}`)
    this.openText = layout.receptacles.map((r) => `open ${r.name}`)
    this.closeText = layout.receptacles.map((r) => `close ${r.name}`)
    this.examineText = layout.receptacles.map((r) => `examine ${r.name}`)
    this.goalObject = layout.goalObject
    this.goalReceptacle = layout.goalReceptacle
    this.reset()
  }

  /** Back to the layout's initial state. */
  reset(): void {
    this.at = -1
    this.holding = -1
    this.lampOn = false
    this.isOpen.fill(0)
    for (const c of this.contents) c.length = 0
    this.layout.objects.forEach((o, i) => {
      this.location[i] = o.location
      this.contents[o.location]!.push(i)
    })
    this.clean.fill(0)
    this.hot.fill(0)
    this.cool.fill(0)
    this.cachedActions = undefined
  }

  /** The first observation of an episode. */
  initialObservation(): string {
    return `You are in the middle of a room. Looking quickly around you, you see ${listItems(
      this.layout.receptacles.map((r) => r.name),
    )}.`
  }

  private objectName(i: number): string {
    return this.layout.objects[i]!.name
  }

  private receptacleName(i: number): string {
    return this.layout.receptacles[i]!.name
  }

  private accessible(r: number): boolean {
    return !this.layout.receptacles[r]!.openable || this.isOpen[r] === 1
  }

  private pair(prefix: number, o: number, r: number, build: () => string): string {
    const key = (prefix * 4096 + o) * 4096 + r
    let text = this.pairText.get(key)
    if (text === undefined) {
      text = build()
      this.pairText.set(key, text)
    }
    return text
  }

  private describe(r: number): string {
    const rec = this.layout.receptacles[r]!
    const names = this.contents[r]!.map((o) => this.objectName(o))
    if (rec.openable) {
      return this.isOpen[r] === 1
        ? `The ${rec.name} is open. In it, you see ${listItems(names)}.`
        : `The ${rec.name} is closed.`
    }
    return `On the ${rec.name}, you see ${listItems(names)}.`
  }

  private compute(): void {
    const actions: Array<string> = []
    const commands: Array<DecodedCommand> = []
    const add = (text: string, kind: CommandKind, a: number, b: number) => {
      actions.push(text)
      commands.push({ kind, a, b })
    }
    const at = this.at
    const held = this.holding
    if (at >= 0) {
      const rec = this.layout.receptacles[at]!
      add(this.examineText[at]!, Command.examineReceptacle, at, -1)
      if (rec.openable) {
        if (this.isOpen[at] === 1) add(this.closeText[at]!, Command.close, at, -1)
        else add(this.openText[at]!, Command.open, at, -1)
      }
      if (this.accessible(at)) {
        if (held < 0) {
          for (const o of this.contents[at]!) {
            if (!this.layout.objects[o]!.pickable) continue
            add(this.pair(0, o, at, () => `take ${this.objectName(o)} from ${rec.name}`), Command.take, o, at)
          }
        } else {
          add(this.pair(1, held, at, () => `move ${this.objectName(held)} to ${rec.name}`), Command.move, held, at)
        }
      }
      if (held >= 0) {
        if (rec.kind === "microwave") add(this.pair(2, held, at, () => `heat ${this.objectName(held)} with ${rec.name}`), Command.heat, held, at)
        if (rec.kind === "sinkbasin") add(this.pair(3, held, at, () => `clean ${this.objectName(held)} with ${rec.name}`), Command.clean, held, at)
        if (rec.kind === "fridge") add(this.pair(4, held, at, () => `cool ${this.objectName(held)} with ${rec.name}`), Command.cool, held, at)
      }
      if (this.layout.lamp >= 0 && this.location[this.layout.lamp] === at) {
        add(`use ${this.objectName(this.layout.lamp)}`, Command.use, this.layout.lamp, -1)
      }
    }
    if (held >= 0) add(`examine ${this.objectName(held)}`, Command.examineObject, held, -1)
    for (let r = 0; r < this.goTo.length; r++) if (r !== at) add(this.goTo[r]!, Command.goTo, r, -1)
    add("inventory", Command.inventory, -1, -1)
    add("look", Command.look, -1, -1)
    this.cachedActions = actions
    this.cachedCommands = commands
  }

  /** The admissible actions in the current state (a fresh array each call). */
  admissible(): Array<string> {
    if (this.cachedActions === undefined) this.compute()
    return this.cachedActions!.slice()
  }

  /** Decodes a normalized action; undefined when it is not admissible now. */
  decode(action: string): DecodedCommand | undefined {
    if (this.cachedActions === undefined) this.compute()
    const index = this.cachedActions!.indexOf(action)
    return index < 0 ? undefined : this.cachedCommands[index]
  }

  /** Executes a normalized action. */
  act(action: string): ActResult {
    const command = this.decode(action)
    if (command === undefined) return { valid: false, observation: NOTHING_HAPPENS, command: undefined }
    return { valid: true, observation: this.execute(command), command }
  }

  private execute(c: DecodedCommand): string {
    this.cachedActions = undefined
    switch (c.kind) {
      case Command.goTo:
        this.at = c.a
        return `You arrive at ${this.receptacleName(c.a)}. ${this.describe(c.a)}`
      case Command.open: {
        this.isOpen[c.a] = 1
        const name = this.receptacleName(c.a)
        return `You open the ${name}. ${this.describe(c.a)}`
      }
      case Command.close:
        this.isOpen[c.a] = 0
        return `You close the ${this.receptacleName(c.a)}.`
      case Command.take: {
        const list = this.contents[c.b]!
        list.splice(list.indexOf(c.a), 1)
        this.location[c.a] = HELD
        this.holding = c.a
        return `You pick up the ${this.objectName(c.a)} from the ${this.receptacleName(c.b)}.`
      }
      case Command.move:
        this.contents[c.b]!.push(c.a)
        this.location[c.a] = c.b
        this.holding = -1
        return `You move the ${this.objectName(c.a)} to the ${this.receptacleName(c.b)}.`
      case Command.heat:
        this.hot[c.a] = 1
        this.cool[c.a] = 0
        return `You heat the ${this.objectName(c.a)} using the ${this.receptacleName(c.b)}.`
      case Command.clean:
        this.clean[c.a] = 1
        return `You clean the ${this.objectName(c.a)} using the ${this.receptacleName(c.b)}.`
      case Command.cool:
        this.cool[c.a] = 1
        this.hot[c.a] = 0
        return `You cool the ${this.objectName(c.a)} using the ${this.receptacleName(c.b)}.`
      case Command.use:
        this.lampOn = true
        return `You turn on the ${this.objectName(c.a)}.`
      case Command.examineReceptacle:
        return this.describe(c.a)
      case Command.examineObject:
        return `There's nothing special about ${this.objectName(c.a)}.`
      case Command.inventory:
        return this.holding < 0 ? "You are not carrying anything." : `You are carrying: a ${this.objectName(this.holding)}.`
      case Command.look:
        return this.at < 0
          ? this.initialObservation()
          : `You are facing the ${this.receptacleName(this.at)}. Next to it, you see nothing.`
    }
  }

  /** Whether an object satisfies the goal's transformation (always true for pick tasks). */
  private transformed(o: number): boolean {
    switch (this.layout.type) {
      case "clean":
        return this.clean[o] === 1
      case "heat":
        return this.hot[o] === 1
      case "cool":
        return this.cool[o] === 1
      default:
        return true
    }
  }

  /** The goal condition. */
  won(): boolean {
    const layout = this.layout
    const objects = layout.objects
    if (layout.type === "look") {
      return (
        this.holding >= 0 &&
        objects[this.holding]!.kind === this.goalObject &&
        this.lampOn &&
        this.location[layout.lamp] === this.at
      )
    }
    const need = layout.type === "pick-two" ? 2 : 1
    for (let r = 0; r < layout.receptacles.length; r++) {
      if (layout.receptacles[r]!.kind !== this.goalReceptacle) continue
      let count = 0
      for (const o of this.contents[r]!) if (objects[o]!.kind === this.goalObject && this.transformed(o)) count++
      if (count >= need) return true
    }
    return false
  }

  /** A description of the first broken invariant, or undefined when the state is consistent. */
  validate(): string | undefined {
    const no = this.layout.objects.length
    const seen = new Uint8Array(no)
    for (let r = 0; r < this.contents.length; r++) {
      for (const o of this.contents[r]!) {
        if (o < 0 || o >= no) return `receptacle ${r} holds unknown object ${o}`
        if (seen[o] === 1) return `object ${o} is in two places`
        seen[o] = 1
        if (this.location[o] !== r) return `object ${o} location ${this.location[o]} but found in ${r}`
      }
    }
    for (let o = 0; o < no; o++) {
      if (seen[o] === 1) continue
      if (this.location[o] !== HELD || this.holding !== o) return `object ${o} is nowhere`
    }
    if (this.holding >= 0 && this.location[this.holding] !== HELD) return "held object is also placed"
    if (this.at < -1 || this.at >= this.contents.length) return `agent at invalid location ${this.at}`
    for (let r = 0; r < this.isOpen.length; r++) {
      if (this.isOpen[r] === 1 && !this.layout.receptacles[r]!.openable) return `receptacle ${r} is open but not openable`
    }
    return undefined
  }
}
