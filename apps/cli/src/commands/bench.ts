/** `bun run bench NAME [flags]`: the benchmarks, each a subcommand with its own flags (JSON output). */
import { Command } from "effect/cli"
import * as answers from "../bench/answer-check.ts"
import * as blas from "../bench/blas.ts"
import * as device from "../bench/device.ts"
import * as envs from "../bench/envs.ts"
import * as gradients from "../bench/gradient-noise.ts"
import * as gsm8k from "../bench/gsm8k-check.ts"
import * as model from "../bench/model.ts"
import * as prompts from "../bench/prompts.ts"
import * as searchqa from "../bench/searchqa.ts"
import * as serve from "../bench/serve.ts"

/** The `bench` command. */
export const command = Command.make("bench").pipe(
  Command.withDescription("Run a benchmark (model, answers, gsm8k, envs, blas, serve, searchqa, prompts, gradients, device)"),
  Command.withSubcommands([model.command, answers.command, gsm8k.command, envs.command, blas.command, serve.command, searchqa.command, prompts.command, gradients.command, device.command]),
)
