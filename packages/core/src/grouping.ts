import type { AdvGroupKey } from "./AlgorithmConfig.ts"
import { groupAdvantages, type AdvantageOptions } from "./advantages.ts"
import type { Role } from "./Role.ts"

/** A reward tagged with the task, round (1 = the critique-free attempt) and role it belongs to. */
export interface TaggedReward {
  readonly taskId: string
  readonly round: number
  readonly role: Role
  readonly reward: number
}

export interface GroupingOptions extends AdvantageOptions {
  /** `task-round-role`: one group per (task, round, role); `task-role`: rounds share a group. */
  readonly key: AdvGroupKey
  /** false: the roles of a task (and round) are pooled into one group (ablation). */
  readonly rolewise: boolean
}

/**
 * The advantage group a tagged reward belongs to.
 *
 * @example
 * groupKeyOf({ taskId: "a", round: 2, role: "solver", reward: 1 }, { key: "task-round-role", rolewise: true }) // "a\u00002\u0000solver"
 */
export const groupKeyOf = (item: TaggedReward, options: Pick<GroupingOptions, "key" | "rolewise">): string =>
  [item.taskId, ...(options.key === "task-round-role" ? [String(item.round)] : []), ...(options.rolewise ? [item.role] : [])].join("\u0000")

/**
 * Advantages normalized within groups (see {@link groupKeyOf}), returned in input order. With
 * `rolewise` one role's rewards never influence another role's advantages. A critic's round is
 * the round of the attempt it critiqued; transferred refinements are solver rewards of round 2+.
 *
 * @example
 * roleWiseAdvantages(
 *   [{ taskId: "a", round: 1, role: "solver", reward: 1 }, { taskId: "a", round: 1, role: "solver", reward: 0 },
 *    { taskId: "a", round: 1, role: "critic", reward: 5 }],
 *   { estimator: "mean-only", epsilon: 1e-6, key: "task-round-role", rolewise: true },
 * ) // [0.5, -0.5, 0]
 */
export const roleWiseAdvantages = (items: ReadonlyArray<TaggedReward>, options: GroupingOptions): Array<number> => {
  const out = new Array<number>(items.length).fill(0)
  for (const members of groupIndices(items.map((item) => groupKeyOf(item, options)))) {
    const advantages = groupAdvantages(
      members.map((i) => items[i]!.reward),
      options,
    )
    members.forEach((i, k) => (out[i] = advantages[k]!))
  }
  return out
}

/**
 * The indices of each distinct label, in order of first appearance.
 *
 * @example
 * groupIndices(["a", "b", "a"]) // [[0, 2], [1]]
 */
export const groupIndices = (labels: ReadonlyArray<string>): Array<Array<number>> => {
  const byLabel = new Map<string, Array<number>>()
  labels.forEach((label, i) => {
    const members = byLabel.get(label)
    if (members === undefined) byLabel.set(label, [i])
    else members.push(i)
  })
  return [...byLabel.values()]
}
