/** The flags of one bearer token: given on the command line, in an environment variable or in a file. */
import { ConfigError, trySync } from "@icrl/core"
import { apiKeyFrom } from "@icrl/trainer"
import { Effect, Option } from "effect"
import { Flag } from "effect/cli"
import { FlagError, optional } from "./flags.ts"

/**
 * `--{prefix}api-key`, `--{prefix}api-key-env` and `--{prefix}api-key-file`, for the token that
 * `token` describes.
 *
 * @example
 * const flags = { ...apiKeyFlags("rollout-", "the engines' bearer token") }
 */
export const apiKeyFlags = (prefix: string, token: string) => ({
  apiKey: optional(Flag.String(`${prefix}api-key`), `${token} (visible in the process list; --${prefix}api-key-env or --${prefix}api-key-file keep it out)`),
  apiKeyEnv: optional(Flag.String(`${prefix}api-key-env`), `read ${token} from this environment variable`),
  apiKeyFile: optional(Flag.String(`${prefix}api-key-file`), `read ${token} from this file (a final newline is dropped)`),
})

/** The parsed flags of {@link apiKeyFlags}. */
export interface ApiKeyValues {
  readonly apiKey: Option.Option<string>
  readonly apiKeyEnv: Option.Option<string>
  readonly apiKeyFile: Option.Option<string>
}

/**
 * The token the flags give (undefined when none is given); more than one source, an unset
 * variable, an unreadable file or an empty token is a FlagError naming the flag.
 *
 * @example
 * const apiKey = yield* apiKeyOf(values, "rollout-")
 */
export const apiKeyOf = (values: ApiKeyValues, prefix: string): Effect.Effect<string | undefined, FlagError> =>
  trySync(
    () => apiKeyFrom({ key: Option.getOrUndefined(values.apiKey), env: Option.getOrUndefined(values.apiKeyEnv), file: Option.getOrUndefined(values.apiKeyFile) }),
    [ConfigError],
  ).pipe(Effect.mapError((error) => new FlagError({ flag: `${prefix}${error.field}`, detail: error.detail.replaceAll("--api-key", `--${prefix}api-key`) })))
