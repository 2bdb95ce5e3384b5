/**
 * Word pools of the generated knowledge corpus: fictional names of people, places, works and
 * organisations, and the descriptive words the documents are written with. Every name is
 * invented so that no question can be answered from outside knowledge.
 */

/** First names with the pronoun their documents use. */
export const femaleNames: ReadonlyArray<string> = [
  "Anna", "Mara", "Lena", "Ilse", "Nora", "Tove", "Sara", "Edda", "Vera", "Alma", "Ines", "Runa",
  "Livia", "Greta", "Hanna", "Mila", "Olga", "Petra", "Rosa", "Selma", "Tilda", "Una", "Wilma", "Yara",
]

export const maleNames: ReadonlyArray<string> = [
  "Erik", "Tomas", "Ivo", "Anton", "Bruno", "Carl", "Dario", "Emil", "Felix", "Gustav", "Hugo", "Jonas",
  "Karl", "Leon", "Milo", "Nils", "Oskar", "Paul", "Rafael", "Sven", "Teo", "Viktor", "Walter", "Axel",
]

/** Surnames are a prefix and a suffix ("Ber" + "strom"). */
export const surnamePrefixes: ReadonlyArray<string> = [
  "Ber", "Hal", "Kor", "Lind", "Mar", "Nor", "Ost", "Rav", "Sel", "Tor", "Val", "Wen", "Dra", "Fen", "Gar",
  "Mel", "Bran", "Cor", "Dal", "Ek",
]

export const surnameSuffixes: ReadonlyArray<string> = [
  "berg", "dale", "strom", "ton", "ski", "ard", "ell", "ow", "wick", "mont", "ley", "quist", "feld", "gren",
]

/** City names are a prefix and a suffix ("Vel" + "mora"). */
export const cityPrefixes: ReadonlyArray<string> = [
  "Vel", "Kor", "Tess", "Ost", "Brin", "Cal", "Dun", "Ely", "Fal", "Gor", "Hav", "Isk", "Jar", "Kel", "Lor",
  "Mir", "Nor", "Pel", "Quen", "Ros", "Sal", "Tor", "Ul", "Var", "Wes", "Yar", "Zan", "Ash",
]

export const citySuffixes: ReadonlyArray<string> = [
  "mora", "vik", "holt", "burg", "haven", "ford", "mouth", "stad", "dal", "wick", "port", "by", "gard", "mere",
]

export const countryNames: ReadonlyArray<string> = [
  "Ostravia", "Belmark", "Caldoria", "Dunmere", "Estovia", "Fennland", "Galdria", "Harvonia", "Ilvania",
  "Jorvenia", "Kestria", "Lumeria", "Morvania", "Nervia", "Paldovia", "Quorland", "Rhunmark", "Sildavia",
  "Tarvonia", "Ulmeria", "Vardia", "Wynland", "Zelmark", "Aldovia",
]

/** Words that start the names of companies that are not named after a person or a city. */
export const brandWords: ReadonlyArray<string> = [
  "Northwind", "Silverline", "Bluegate", "Redstone", "Ironwood", "Brightwater", "Oakridge", "Stormfront",
  "Greenfield", "Blackpine", "Goldcrest", "Whitecliff", "Starling", "Foxglove", "Amberlight", "Highmoor",
  "Clearbrook", "Copperhill", "Sunspire", "Mistral",
]

/** Company kinds: the suffixes of their names, the industry their documents name, founding years. */
export const companyKinds = {
  studio: { suffixes: ["Pictures", "Studios", "Films"], industry: "film company", founded: [1900, 2005] },
  publisher: { suffixes: ["Press", "Books", "Publishing"], industry: "publishing company", founded: [1800, 2005] },
  label: { suffixes: ["Records", "Music", "Sound"], industry: "record company", founded: [1920, 2010] },
  other: { suffixes: ["Industries", "Labs", "Group", "Systems", "Motors", "Shipping"], industry: "technology company", founded: [1850, 2010] },
} as const

export type CompanyKind = keyof typeof companyKinds

/** Industries of the `other` companies, by name suffix. */
export const otherIndustries: Readonly<Record<string, string>> = {
  Industries: "steel company",
  Labs: "technology company",
  Group: "trading company",
  Systems: "software company",
  Motors: "car company",
  Shipping: "shipping company",
}

/** Titles of works are an adjective and a noun, or "The <noun> of <city>". */
export const titleAdjectives: ReadonlyArray<string> = [
  "Silent", "Broken", "Golden", "Last", "Hidden", "Northern", "Quiet", "Burning", "Distant", "Frozen", "Wild",
  "Pale", "Crimson", "Endless", "Hollow", "Bright", "Lost", "Secret", "Eastern", "Silver", "Iron", "Velvet",
  "Winter", "Summer",
]

export const titleNouns: ReadonlyArray<string> = [
  "River", "Harbor", "Garden", "Mountain", "Letter", "Shadow", "Voyage", "Kingdom", "Mirror", "Station",
  "Orchard", "Tide", "Bridge", "Lantern", "Forest", "Island", "Compass", "Window", "Crown", "Echo", "Meadow",
  "Signal", "Harvest", "Engine", "Feather", "Anchor", "Storm", "Valley", "Tower", "Road",
]

export const filmGenres: ReadonlyArray<string> = ["drama", "comedy", "thriller", "war", "crime", "musical", "western", "mystery"]

export const cityTraits: ReadonlyArray<string> = ["small", "large", "coastal", "port", "mountain", "river", "market", "harbour"]

export const rivers: ReadonlyArray<string> = ["Alde", "Brenna", "Coll", "Drava", "Esk", "Fenna", "Gala", "Hume", "Ister", "Jura"]

/** Occupations of the namesakes: people who share a name with someone in the questions. */
export const namesakeOccupations: ReadonlyArray<string> = [
  "footballer", "painter", "chess player", "sprinter", "architect", "botanist", "cellist", "chef", "sculptor", "cyclist",
]

/** Landmarks named after a city ("Velmora Museum"): documents that share a city's name. */
export const landmarks: ReadonlyArray<readonly [string, string]> = [
  ["Museum", "museum"],
  ["Bridge", "bridge"],
  ["Cathedral", "cathedral"],
  ["Stadium", "stadium"],
  ["Opera House", "opera house"],
  ["Library", "library"],
  ["Market", "market hall"],
  ["Observatory", "observatory"],
]
