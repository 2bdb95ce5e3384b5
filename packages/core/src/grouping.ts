import { groupAdvantages, type AdvantageOptions } from "./advantages.ts"
import type { Role } from "./Role.ts"

/** A reward tagged with the task and role it belongs to. */
export interface TaggedReward {
  readonly taskId: string
  readonly role: Role
  readonly reward: number
}

export interface GroupingOptions extends AdvantageOptions {
  /** true: one group per (task, role); false: the roles of a task are pooled into one group. */
  readonly rolewise: boolean
}

/**
 * Advantages normalized within groups, returned in input order. With `rolewise` the groups are
 * (task, role) pairs, so one role's rewards never influence another role's advantages.
 * Transferred refinements enter with role "solver": they share the solver's group.
 *
 * @example
 * roleWiseAdvantages(
 *   [{ taskId: "a", role: "solver", reward: 1 }, { taskId: "a", role: "solver", reward: 0 },
 *    { taskId: "a", role: "critic", reward: 5 }],
 *   { estimator: "mean-only", epsilon: 1e-6, rolewise: true },
 * ) // [0.5, -0.5, 0]
 */
export const roleWiseAdvantages = (items: ReadonlyArray<TaggedReward>, options: GroupingOptions): Array<number> => {
  const groups = new Map<string, Array<number>>()
  items.forEach((item, index) => {
    const key = options.rolewise ? `${item.taskId}\u0000${item.role}` : item.taskId
    const members = groups.get(key)
    if (members === undefined) groups.set(key, [index])
    else members.push(index)
  })
  const out = new Array<number>(items.length).fill(0)
  for (const members of groups.values()) {
    const advantages = groupAdvantages(
      members.map((i) => items[i]!.reward),
      options,
    )
    members.forEach((i, k) => (out[i] = advantages[k]!))
  }
  return out
}
