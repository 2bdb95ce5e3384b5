/** One turn of an episode: what the policy was shown, what it wrote, and what happened. */
export interface Turn {
  readonly prompt: string
  readonly completion: string
  readonly action: string
  readonly actionValid: boolean
  readonly observation: string
  readonly reward: number
}

/** A whole episode. For single-turn tasks it has one turn. */
export interface Trajectory {
  readonly taskId: string
  readonly turns: ReadonlyArray<Turn>
  /** Sum of step rewards (plus any invalid-action penalties applied by the projection). */
  readonly totalReward: number
  readonly won: boolean
  /** Graded score where the environment has one, else 1 for won and 0 otherwise. */
  readonly score: number
  readonly terminated: boolean
  readonly truncated: boolean
}
