/**
 * What the household world is made of: receptacle kinds, room layouts, object kinds with the
 * receptacles they plausibly sit in, and which objects each task type can use.
 */

/** The six ALFWorld task types. */
export type HouseholdTaskType = "pick" | "clean" | "heat" | "cool" | "look" | "pick-two"

export const householdTaskTypes: ReadonlyArray<HouseholdTaskType> = ["pick", "clean", "heat", "cool", "look", "pick-two"]

/**
 * World size: `single` rooms hold the task's target and the one place the goal object lies (plus
 * the appliance or the lamp's table a task needs), with at most one other object, so every step
 * of the task follows from what the prompt shows; `tiny` rooms have two places the goal object
 * may lie and one or two other objects; none of their receptacles opens but an appliance;
 * `small` keeps prompts short for small models; `full` is closer to ALFWorld's rooms.
 */
export type HouseholdSize = "single" | "tiny" | "small" | "full"

export const householdSizes: ReadonlyArray<HouseholdSize> = ["single", "tiny", "small", "full"]

export type RoomKind = "kitchen" | "bedroom" | "bathroom" | "livingroom"

/** Receptacles that must be opened before their contents can be seen or used. */
export const openableReceptacles: ReadonlySet<string> = new Set(["cabinet", "drawer", "fridge", "microwave", "safe"])

/** Receptacles one puts things "in" (the others take "on" in goal phrasings). */
export const containerReceptacles: ReadonlySet<string> = new Set([
  "cabinet", "drawer", "fridge", "microwave", "safe", "sinkbasin", "coffeemachine", "garbagecan",
  "bathtubbasin", "laundryhamper", "toaster",
])

/** Receptacle kinds per room with [min, max] counts for the small world. */
export const roomReceptacles: Readonly<Record<RoomKind, ReadonlyArray<readonly [string, number, number]>>> = {
  kitchen: [
    ["cabinet", 2, 4], ["coffeemachine", 1, 1], ["countertop", 1, 2], ["diningtable", 0, 1], ["drawer", 1, 3],
    ["fridge", 1, 1], ["garbagecan", 1, 1], ["microwave", 1, 1], ["shelf", 0, 2], ["sinkbasin", 1, 1],
    ["stoveburner", 1, 2], ["toaster", 0, 1],
  ],
  bedroom: [
    ["armchair", 0, 1], ["bed", 1, 1], ["desk", 0, 1], ["drawer", 1, 3], ["dresser", 0, 1], ["garbagecan", 1, 1],
    ["laundryhamper", 0, 1], ["safe", 0, 1], ["shelf", 1, 2], ["sidetable", 1, 2],
  ],
  bathroom: [
    ["bathtubbasin", 0, 1], ["cabinet", 1, 3], ["countertop", 1, 1], ["drawer", 0, 2], ["garbagecan", 1, 1],
    ["handtowelholder", 0, 1], ["shelf", 0, 1], ["sinkbasin", 1, 2], ["toilet", 1, 1], ["toiletpaperhanger", 1, 1],
    ["towelholder", 1, 1],
  ],
  livingroom: [
    ["armchair", 0, 2], ["cabinet", 0, 2], ["coffeetable", 1, 1], ["diningtable", 0, 1], ["drawer", 0, 2],
    ["dresser", 0, 1], ["garbagecan", 1, 1], ["safe", 0, 1], ["shelf", 1, 2], ["sidetable", 1, 2], ["sofa", 1, 1],
    ["tvstand", 1, 1],
  ],
}

/** Counts for a small or full world: `full` rooms have more of each repeatable receptacle. */
export const receptacleCount = (size: "small" | "full", min: number, max: number): readonly [number, number] =>
  size === "small" ? [min, max] : max >= 2 ? [max, max * 3] : [max, max]

/** Object kinds per room, each with the receptacle kinds it may be found in or put in. */
export const roomObjects: Readonly<Record<RoomKind, Readonly<Record<string, ReadonlyArray<string>>>>> = {
  kitchen: {
    apple: ["countertop", "diningtable", "fridge", "garbagecan", "sinkbasin", "microwave"],
    bowl: ["countertop", "diningtable", "cabinet", "fridge", "sinkbasin", "microwave", "shelf"],
    bread: ["countertop", "diningtable", "fridge", "cabinet", "microwave"],
    butterknife: ["countertop", "diningtable", "drawer", "sinkbasin"],
    cup: ["countertop", "diningtable", "cabinet", "fridge", "sinkbasin", "microwave", "shelf"],
    dishsponge: ["countertop", "sinkbasin", "cabinet", "drawer"],
    egg: ["countertop", "diningtable", "fridge", "sinkbasin", "garbagecan", "microwave"],
    fork: ["countertop", "diningtable", "drawer", "sinkbasin"],
    kettle: ["stoveburner", "countertop", "cabinet", "shelf"],
    knife: ["countertop", "diningtable", "drawer", "sinkbasin"],
    ladle: ["countertop", "diningtable", "drawer", "sinkbasin"],
    lettuce: ["countertop", "diningtable", "fridge", "sinkbasin"],
    mug: ["countertop", "diningtable", "cabinet", "coffeemachine", "sinkbasin", "shelf", "microwave", "fridge"],
    pan: ["stoveburner", "countertop", "cabinet", "sinkbasin", "fridge"],
    peppershaker: ["countertop", "diningtable", "cabinet", "drawer", "shelf"],
    plate: ["countertop", "diningtable", "cabinet", "sinkbasin", "fridge", "shelf"],
    pot: ["stoveburner", "countertop", "cabinet", "sinkbasin", "fridge"],
    potato: ["countertop", "diningtable", "fridge", "sinkbasin", "garbagecan", "microwave"],
    saltshaker: ["countertop", "diningtable", "cabinet", "drawer", "shelf"],
    soapbottle: ["countertop", "cabinet", "shelf", "sinkbasin"],
    spatula: ["countertop", "diningtable", "drawer", "sinkbasin"],
    spoon: ["countertop", "diningtable", "drawer", "sinkbasin"],
    tomato: ["countertop", "diningtable", "fridge", "sinkbasin", "garbagecan", "microwave"],
    winebottle: ["countertop", "diningtable", "fridge", "cabinet", "shelf"],
  },
  bedroom: {
    alarmclock: ["desk", "dresser", "sidetable", "shelf"],
    book: ["bed", "desk", "dresser", "sidetable", "shelf", "drawer"],
    cd: ["desk", "dresser", "sidetable", "shelf", "drawer", "safe", "garbagecan"],
    cellphone: ["bed", "desk", "dresser", "sidetable", "shelf", "drawer"],
    cloth: ["laundryhamper", "dresser", "drawer", "armchair"],
    creditcard: ["desk", "dresser", "sidetable", "shelf", "drawer"],
    keychain: ["desk", "dresser", "sidetable", "shelf", "drawer", "safe"],
    laptop: ["bed", "desk", "dresser", "armchair"],
    mug: ["desk", "shelf", "sidetable"],
    pen: ["desk", "dresser", "sidetable", "shelf", "drawer"],
    pencil: ["desk", "dresser", "sidetable", "shelf", "drawer"],
    pillow: ["bed", "armchair"],
  },
  bathroom: {
    candle: ["countertop", "cabinet", "shelf", "toilet", "bathtubbasin"],
    cloth: ["countertop", "cabinet", "sinkbasin", "bathtubbasin", "drawer", "shelf", "garbagecan"],
    dishsponge: ["countertop", "cabinet", "sinkbasin", "bathtubbasin"],
    handtowel: ["handtowelholder", "countertop", "cabinet"],
    soapbar: ["countertop", "sinkbasin", "bathtubbasin", "toilet", "cabinet", "shelf", "garbagecan"],
    soapbottle: ["countertop", "cabinet", "shelf", "toilet", "bathtubbasin"],
    spraybottle: ["countertop", "cabinet", "shelf", "toilet", "garbagecan"],
    tissuebox: ["countertop", "cabinet", "shelf", "toilet"],
    toiletpaper: ["toiletpaperhanger", "countertop", "cabinet", "toilet", "shelf", "drawer", "garbagecan"],
    towel: ["towelholder", "countertop", "cabinet", "shelf"],
  },
  livingroom: {
    box: ["sofa", "coffeetable", "sidetable", "diningtable", "shelf", "tvstand", "dresser"],
    book: ["coffeetable", "sidetable", "shelf", "diningtable", "sofa"],
    cellphone: ["sofa", "armchair", "coffeetable", "sidetable", "drawer", "dresser", "shelf", "tvstand"],
    creditcard: ["sofa", "armchair", "coffeetable", "sidetable", "drawer", "dresser", "shelf"],
    keychain: ["sofa", "coffeetable", "sidetable", "drawer", "dresser", "shelf", "safe", "tvstand"],
    laptop: ["sofa", "coffeetable", "diningtable", "armchair"],
    newspaper: ["sofa", "armchair", "coffeetable", "sidetable", "diningtable"],
    pen: ["coffeetable", "sidetable", "shelf", "diningtable", "drawer"],
    pillow: ["sofa", "armchair"],
    remotecontrol: ["sofa", "armchair", "coffeetable", "sidetable", "tvstand", "dresser"],
    statue: ["coffeetable", "sidetable", "shelf", "tvstand", "dresser", "diningtable"],
    vase: ["coffeetable", "sidetable", "shelf", "tvstand", "dresser", "diningtable", "cabinet"],
    watch: ["coffeetable", "sidetable", "dresser", "drawer", "shelf", "safe"],
  },
}

/** Objects that can be cleaned, heated or cooled for the corresponding task types. */
export const transformable: Readonly<Record<"clean" | "heat" | "cool", ReadonlySet<string>>> = {
  clean: new Set([
    "apple", "bowl", "butterknife", "cloth", "cup", "dishsponge", "fork", "kettle", "knife", "ladle", "lettuce", "mug",
    "pan", "plate", "pot", "potato", "soapbar", "spatula", "spoon", "tomato",
  ]),
  heat: new Set(["apple", "bowl", "bread", "cup", "egg", "mug", "plate", "potato", "tomato"]),
  cool: new Set(["apple", "bowl", "bread", "cup", "egg", "lettuce", "mug", "pan", "plate", "pot", "potato", "tomato", "winebottle"]),
}

/** The appliance receptacle each transformation uses. */
export const applianceOf: Readonly<Record<"clean" | "heat" | "cool", string>> = {
  clean: "sinkbasin",
  heat: "microwave",
  cool: "fridge",
}

/** Rooms where a task type can be generated. */
export const roomsFor: Readonly<Record<HouseholdTaskType, ReadonlyArray<RoomKind>>> = {
  pick: ["kitchen", "bedroom", "bathroom", "livingroom"],
  clean: ["kitchen", "bathroom"],
  heat: ["kitchen"],
  cool: ["kitchen"],
  look: ["bedroom", "livingroom"],
  "pick-two": ["kitchen", "bedroom", "bathroom", "livingroom"],
}

/** Where a desk lamp may stand. */
export const lampPlaces: ReadonlyArray<string> = ["desk", "sidetable", "dresser"]

/** Receptacles nothing is put into (appliances that only act on held objects, or too small). */
export const neverTargets: ReadonlySet<string> = new Set(["toaster"])
