/** The two disjoint task splits every environment package provides. */
export type Split = "train" | "test"

export const splits: ReadonlyArray<Split> = ["train", "test"]

/**
 * A task as the orchestration sees it. Environments keep their own richer task values;
 * `id` is unique and stable within an environment, `text` is what a person would read as the
 * problem statement (the `x` of the role prompts).
 */
export interface Task {
  readonly id: string
  readonly split: Split
  readonly text: string
}
