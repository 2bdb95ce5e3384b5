/**
 * The environment package: what `--env` loads. The prompt projection (task, recent steps,
 * current observation, admissible actions, `<think>`/`<action>` replies), the Reward that
 * replays a trajectory and the warm-start builder come from `@icrl/envs-agentic`, the same
 * ones the household, shop and searchqa environments use; this file says what is specific to
 * the rooms world.
 */
import type { EnvironmentPackage } from "@icrl/core"
import { agenticTemplates, defaultProjection, parseAction, renderAgentPrompt, renderTrajectory, replayReward, warmStartOf } from "@icrl/envs-agentic"
import { Effect } from "effect"
import { envName } from "./envName.ts"
import { critiqueRooms } from "./roomsCritique.ts"
import { RoomsEnvironment, roomsMaxSteps } from "./RoomsEnvironment.ts"
import { corruptedRoomsPlan, roomsExpertPlan } from "./roomsExpert.ts"
import { type RoomsTask, roomsTasks } from "./RoomsTask.ts"

/** Carry an item through a few rooms and put it in a container; reward 1 when it is in. */
export const roomsEnvironment: EnvironmentPackage<RoomsTask> = {
  name: envName,
  description: "carry an item through a few rooms and put it in a container",
  kind: "multi-turn",
  rewardRange: [0, 1],
  maxSteps: roomsMaxSteps,
  // Byte-level models spend one token per byte: a reply is a short thought and an action, a critique one sentence.
  maxTokens: { solver: 80, critic: 96 },
  tasks: (split, options) => Effect.sync(() => roomsTasks(split, options)),
  make: (task) => new RoomsEnvironment(task),
  reward: replayReward("rooms-goal", (task) => new RoomsEnvironment(task)),
  renderPrompt: (context) => renderAgentPrompt(context),
  parseAction,
  // The critic reads the task and the attempt's steps with its reward (agenticTemplates.critic).
  renderAttempt: (_task, trajectory) => renderTrajectory(trajectory, defaultProjection, { reward: trajectory.won ? 1 : 0 }),
  templates: agenticTemplates,
  expert: (task) => roomsExpertPlan(task).map((step) => step.action),
  referenceCritique: (task, attempt) => critiqueRooms(task, attempt.turns.map((turn) => turn.action)),
  warmStart: (options) =>
    warmStartOf(
      {
        pkg: roomsEnvironment,
        expertPlan: roomsExpertPlan,
        corrupt: corruptedRoomsPlan,
        critique: (task, attempt) => critiqueRooms(task, attempt.turns.map((turn) => turn.action)),
        successCritiqueRate: 0.25,
      },
      roomsTasks,
      options,
    ),
}
