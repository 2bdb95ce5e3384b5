/**
 * The relations of the generated knowledge graph: which entity type each one leads from and
 * to, the noun phrase that names its value ("the director of X") and the questions that ask
 * for it. Multi-hop questions nest the phrases of a relation path inside a final question.
 */

/** Types of the entities in the generated world. */
export type EntityType = "person" | "film" | "novel" | "album" | "company" | "university" | "city" | "country"

export const searchQaEntityTypes: ReadonlyArray<EntityType> = ["person", "film", "novel", "album", "company", "university", "city", "country"]

export type RelationName =
  | "director"
  | "studio"
  | "filmYear"
  | "author"
  | "publisher"
  | "novelYear"
  | "singer"
  | "label"
  | "albumYear"
  | "birthplace"
  | "university"
  | "birthYear"
  | "founder"
  | "headquarters"
  | "foundingYear"
  | "location"
  | "establishedYear"
  | "country"
  | "capital"

/** One functional relation: every entity of the domain has exactly one value. */
export interface Relation {
  readonly name: RelationName
  readonly domain: EntityType
  /** An entity type, or "year" for a literal year. */
  readonly range: EntityType | "year"
  /** The noun phrase that names the value for `x`: "the director of x". */
  readonly phrase: (x: string) => string
  /** Questions that ask for the value (at least two phrasings). */
  readonly questions: ReadonlyArray<(x: string) => string>
  /** One lower-case word for what a search on this hop looks for. */
  readonly think: string
}

const r = (
  name: RelationName,
  domain: EntityType,
  range: EntityType | "year",
  phrase: (x: string) => string,
  questions: ReadonlyArray<(x: string) => string>,
  think: string,
): Relation => ({ name, domain, range, phrase, questions, think })

/** Every relation, by name. */
export const searchQaRelations: Readonly<Record<RelationName, Relation>> = {
  director: r("director", "film", "person", (x) => `the director of ${x}`, [(x) => `Who directed ${x}?`, (x) => `Who is the director of ${x}?`], "director"),
  studio: r("studio", "film", "company", (x) => `the studio of ${x}`, [(x) => `Which company produced ${x}?`, (x) => `Which studio made ${x}?`], "studio"),
  filmYear: r("filmYear", "film", "year", (x) => `the release year of ${x}`, [(x) => `In what year was ${x} released?`, (x) => `When was ${x} released?`], "year"),
  author: r("author", "novel", "person", (x) => `the author of ${x}`, [(x) => `Who wrote ${x}?`, (x) => `Who is the author of ${x}?`], "author"),
  publisher: r("publisher", "novel", "company", (x) => `the publisher of ${x}`, [(x) => `Which company published ${x}?`, (x) => `Who published ${x}?`], "publisher"),
  novelYear: r("novelYear", "novel", "year", (x) => `the publication year of ${x}`, [(x) => `In what year was ${x} published?`, (x) => `When was ${x} first published?`], "year"),
  singer: r("singer", "album", "person", (x) => `the singer of ${x}`, [(x) => `Who recorded ${x}?`, (x) => `Which singer released ${x}?`], "singer"),
  label: r("label", "album", "company", (x) => `the label of ${x}`, [(x) => `Which label released ${x}?`, (x) => `On which record label did ${x} appear?`], "label"),
  albumYear: r("albumYear", "album", "year", (x) => `the release year of ${x}`, [(x) => `In what year did ${x} come out?`, (x) => `When was ${x} released?`], "year"),
  birthplace: r("birthplace", "person", "city", (x) => `the birthplace of ${x}`, [(x) => `In which city was ${x} born?`, (x) => `Where was ${x} born?`], "birthplace"),
  university: r("university", "person", "university", (x) => `the university ${x} attended`, [(x) => `Which university did ${x} attend?`, (x) => `Where did ${x} study?`], "university"),
  birthYear: r("birthYear", "person", "year", (x) => `the birth year of ${x}`, [(x) => `In what year was ${x} born?`, (x) => `When was ${x} born?`], "year"),
  founder: r("founder", "company", "person", (x) => `the founder of ${x}`, [(x) => `Who founded ${x}?`, (x) => `Who is the founder of ${x}?`], "founder"),
  headquarters: r("headquarters", "company", "city", (x) => `the home city of ${x}`, [(x) => `In which city is ${x} based?`, (x) => `Where is ${x} headquartered?`], "headquarters"),
  foundingYear: r("foundingYear", "company", "year", (x) => `the founding year of ${x}`, [(x) => `In what year was ${x} founded?`, (x) => `When was ${x} founded?`], "year"),
  location: r("location", "university", "city", (x) => `the city of ${x}`, [(x) => `In which city is ${x}?`, (x) => `Where is ${x} located?`], "location"),
  establishedYear: r("establishedYear", "university", "year", (x) => `the founding year of ${x}`, [(x) => `In what year was ${x} founded?`, (x) => `When was ${x} established?`], "year"),
  country: r("country", "city", "country", (x) => `the country of ${x}`, [(x) => `In which country is ${x}?`, (x) => `Which country is ${x} in?`], "country"),
  capital: r("capital", "country", "city", (x) => `the capital of ${x}`, [(x) => `What is the capital of ${x}?`, (x) => `Which city is the capital of ${x}?`], "capital"),
}

/** The relations leading from each entity type. */
export const searchQaRelationsFrom: Readonly<Record<EntityType, ReadonlyArray<Relation>>> = Object.fromEntries(
  searchQaEntityTypes.map((type) => [type, Object.values(searchQaRelations).filter((rel) => rel.domain === type)]),
) as unknown as Record<EntityType, ReadonlyArray<Relation>>
