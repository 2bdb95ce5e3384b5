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
 * agentic knobs (shop's differ: {@link shopTrainingDefaults}), and a warm start at half the peak
 * lr. Under it the small model learned to copy the question into its search and the product's id
 * into its click (level 1 held-out: searchqa 64.0%, shop 99.0%; see the README's agentic section).
 */
export const copyDrillTrainingDefaults = {
  warmstart: { steps: 2400, batchSize: 8, lr: 3e-3 },
  knobs: agenticTrainingDefaults.knobs,
} as const

/**
 * Shop: the copy-drill defaults, with RL rollouts sampled at temperature 0.3 instead of 0.7. On
 * an item page whose task names no option, buying at once and clicking any listed option first
 * both succeed, so sampled episodes do not tell the two apart, while tasks that name an option
 * reward choosing it: RL raised the model's probability of choosing an option on every item
 * page. Greedy, such a model copies an option out of the task's words where the task names none
 * (`click[60 dolla]`) and repeats the invalid click; sampled at 0.7 it often clicks a listed one
 * and still succeeds, so training did not see the failure. At 0.3 the samples stay closer to the
 * greedy policy. Level 1, 10 steps from a 90.0% warm start, 100 held-out tasks, 3 seeds: ICRL
 * 52.3% and GRPO 54.7% at 0.7, 87.7% and 84.7% at 0.3 (see the README's agentic section).
 */
export const shopTrainingDefaults = {
  warmstart: copyDrillTrainingDefaults.warmstart,
  knobs: { ...agenticTrainingDefaults.knobs, temperature: 0.3 },
} as const
