import { groupAdvantages, type AdvantageOptions } from "./advantages.ts"
import type { TurnContext } from "./EnvironmentPackage.ts"
import { groupIndices } from "./grouping.ts"

/** One turn of an episode, for step-level credit: the state it acted in and the reward it got. */
export interface StepTurn {
  /** Equal for turns that acted in the same environment state (see {@link anchorOf}). */
  readonly anchor: string
  readonly reward: number
}

/**
 * Discounted returns R_t = sum_{k >= t} gamma^(k - t) r_k of one episode's step rewards.
 *
 * @example
 * discountedReturns([0, 0, 1], 0.5) // [0.25, 0.5, 1]
 */
export const discountedReturns = (rewards: ReadonlyArray<number>, gamma: number): Array<number> => {
  const out = new Array<number>(rewards.length).fill(0)
  let next = 0
  for (let t = rewards.length - 1; t >= 0; t--) out[t] = next = rewards[t]! + gamma * next
  return out
}

/**
 * The state a turn acted in, as an anchor key: the observation it was shown and the actions it
 * could take (two turns with the same text but different admissible actions are different
 * states; the history and any critique are not part of the state).
 *
 * @example
 * anchorOf({ task, observation: "You arrive at shelf 1.", history: [], admissibleActions: ["look"] }) // "You arrive at shelf 1.\u0000look"
 */
export const anchorOf = (context: Pick<TurnContext, "observation" | "admissibleActions">): string =>
  [context.observation, ...(context.admissibleActions ?? [])].join("\u0000")

/**
 * Step-level advantages over one group of episodes of a task (GiGPO, Feng et al. 2025,
 * "Group-in-Group Policy Optimization for LLM Agent Training"): the turns of the group that acted
 * in the same state (anchor) form a step group, and each turn's discounted return (see
 * {@link discountedReturns}) is normalized inside its step group with the episode estimator. A
 * turn whose state no other turn of the group reached gets 0, as does a step group whose returns
 * are all equal. Returned per episode, per turn.
 *
 * @example
 * // Two episodes from the same first state: the one whose first action led to the reward is credited.
 * stepAdvantages([[{ anchor: "s", reward: 0 }, { anchor: "a", reward: 1 }], [{ anchor: "s", reward: 0 }, { anchor: "b", reward: 0 }]],
 *   { gamma: 0.9, estimator: "mean-only", epsilon: 1e-6 }) // [[0.45, 0], [-0.45, 0]]
 */
export const stepAdvantages = (
  episodes: ReadonlyArray<ReadonlyArray<StepTurn>>,
  options: Omit<AdvantageOptions, "pseudoReward"> & { readonly gamma: number },
): Array<Array<number>> => {
  // Every turn of the group in one flat list, normalized per anchor, then cut back into episodes.
  const returns = episodes.flatMap((turns) => discountedReturns(turns.map((t) => t.reward), options.gamma))
  const flat = new Array<number>(returns.length).fill(0)
  for (const members of groupIndices(episodes.flatMap((turns) => turns.map((t) => t.anchor)))) {
    const advantages = groupAdvantages(members.map((i) => returns[i]!), { estimator: options.estimator, epsilon: options.epsilon })
    members.forEach((i, k) => (flat[i] = advantages[k]!))
  }
  let offset = 0
  return episodes.map((turns) => flat.slice(offset, (offset += turns.length)))
}
