/**
 * How the agentic packages train unless told otherwise, measured on level 1 with the small
 * model (see the README's agentic section). The warm start takes many small updates: a
 * byte-level model learns to copy names and ids from the prompt into its action (the skill every
 * agentic action needs) only after a few thousand updates, and 600 updates of 32 demonstrations
 * leave household at 0% success (searchqa stays at 0% with these too, as with every warm start
 * tried without copy drills: its names have several parts). RL steps are 8 tasks, because an
 * episode is many turns, at a larger step size than math's, so that ten steps move the policy.
 */
export const agenticTrainingDefaults = {
  warmstart: { steps: 2400, batchSize: 8, lr: 6e-3 },
  knobs: { train_batch_size: 8, total_steps: 10, lr: 1e-3 },
} as const

/**
 * The packages whose warm-start data holds copy drills (searchqa and shop, two per task): the
 * agentic knobs, and a warm start at half the peak lr. Under it the small model learned to copy
 * the question into its search and the product's id into its click (level 1 held-out: searchqa
 * 64.0%, shop 83.0%; see the README's agentic section).
 */
export const copyDrillTrainingDefaults = {
  warmstart: { steps: 2400, batchSize: 8, lr: 3e-3 },
  knobs: agenticTrainingDefaults.knobs,
} as const
