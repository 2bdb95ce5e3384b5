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
 * Default templates: short, plain text, so that small byte-level models can learn them. The
 * refine prompt ends with the solver prompt: a refinement is written after the same words as a
 * critique-free solution, with the attempt and critique as context before them. A small shared
 * model then refines with the skill it solves with (with "Revised solution:" after the critique
 * instead, the warm-started 0.9M-parameter math model refined 3-8% of held-out problems right
 * against 16.5% with this one), and the calibration ratio compares one continuation of two
 * contexts that differ only in that prefix.
 *
 * @example
 * defaultTemplates.solver("2+3") // "Problem: 2+3\nSolution:"
 * defaultTemplates.refine("2+3", " 2+3=6. Answer: 6", " Step 1 is wrong: 2+3 is 5, not 6.")
 * // "Problem: 2+3\nAttempt: 2+3=6. Answer: 6\nCritique: Step 1 is wrong: 2+3 is 5, not 6.\nProblem: 2+3\nSolution:"
 */
export const defaultTemplates: RoleTemplates = {
  solver: (x) => `Problem: ${x}\nSolution:`,
  critic: (x, attempt) => `Problem: ${x}\nAttempt:${attempt}\nCritique:`,
  refine: (x, attempt, critique) =>
    `Problem: ${x}\nAttempt:${attempt}\nCritique:${critique}\nProblem: ${x}\nSolution:`,
}

/** Default stop strings that end a role's completion. */
export const defaultStops: Readonly<Record<Role, ReadonlyArray<string>>> = {
  solver: ["\n\n"],
  critic: ["\n\n"],
  refiner: ["\n\n"],
}
