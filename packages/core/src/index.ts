/**
 * @icrl/core: contracts, the ICRL algorithm math as pure functions, and rollout orchestration.
 * No tensors here; the trainer implements the tensor side.
 */
export * from "./Errors.ts"
export * from "./Environment.ts"
export * from "./EnvironmentPackage.ts"
export * from "./Task.ts"
export * from "./Role.ts"
export * from "./Trajectory.ts"
export * from "./Policy.ts"
export * from "./AlgorithmConfig.ts"
export * from "./discovery.ts"
export * from "./advantages.ts"
export * from "./grouping.ts"
export * from "./criticGain.ts"
export * from "./calibration.ts"
export * from "./surrogate.ts"
export * from "./kl.ts"
export * from "./aggregate.ts"
export * from "./passAtK.ts"
export * from "./stats.ts"
