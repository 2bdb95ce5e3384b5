/** The roles the one shared policy plays. */
export type Role = "solver" | "critic" | "refiner"

export const roles: ReadonlyArray<Role> = ["solver", "critic", "refiner"]

/** Prompt templates for the three roles. `x` is the task text, `attempt` the solver's attempt. */
export interface RoleTemplates {
  readonly solver: (x: string) => string
  readonly critic: (x: string, attempt: string) => string
  readonly refine: (x: string, attempt: string, critique: string) => string
}

/**
 * Default templates: short, plain text, so that small byte-level models can learn them and the
 * critique-free solver prompt is a prefix-free variant of the refine prompt.
 *
 * @example
 * defaultTemplates.solver("2+3") // "Problem: 2+3\nSolution:"
 */
export const defaultTemplates: RoleTemplates = {
  solver: (x) => `Problem: ${x}\nSolution:`,
  critic: (x, attempt) => `Problem: ${x}\nAttempt:${attempt}\nCritique:`,
  refine: (x, attempt, critique) =>
    `Problem: ${x}\nAttempt:${attempt}\nCritique:${critique}\nRevised solution:`,
}

/** Default stop strings that end a role's completion. */
export const defaultStops: Readonly<Record<Role, ReadonlyArray<string>>> = {
  solver: ["\n\n"],
  critic: ["\n\n"],
  refiner: ["\n\n"],
}
