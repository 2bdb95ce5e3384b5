/**
 * `envs list` (names, descriptions, splits of every discoverable environment),
 * `envs check --env NAME` (the environment doctor's conformance checks) and
 * `envs new NAME` (a new environment package from a template).
 */
import { checkEnvironment, EnvironmentRegistry, formatDoctorReport, isWorkspaceDirectory, splits, workspaceDirectories, workspacePatterns } from "@icrl/core"
import { Console, Effect, Option, Result } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { ExitCode } from "../edge.ts"
import { checkEnvOptions, envFlag, envOptionFlags, envOptionsOf, loadForFlag } from "../envOptions.ts"
import { environmentKinds, environmentNameProblem, environmentPackageName, nextCommands, scaffoldFiles, shortRunNote } from "../environmentScaffold.ts"
import { ArgumentError, defaulted, FlagError, optional, PositiveCount, toggle } from "../flags.ts"

/** One row of `envs list`: an environment that loaded, or one that failed to. */
const rowsOf = Effect.gen(function* () {
  const registry = yield* EnvironmentRegistry
  const rows: Array<Record<string, unknown>> = []
  for (const entry of yield* registry.entries) {
    const result = yield* Effect.result(registry.load(entry.name))
    if (Result.isSuccess(result)) {
      const pkg = result.success
      rows.push({
        name: pkg.name,
        package: entry.packageName,
        kind: pkg.kind,
        description: pkg.description,
        splits: ["train", "test"],
        maxSteps: pkg.maxSteps,
        rewardRange: pkg.rewardRange,
        expert: pkg.expert !== undefined,
        referenceCritic: pkg.referenceCritique !== undefined,
      })
    } else {
      rows.push({ name: entry.name, package: entry.packageName, error: result.failure.message })
    }
  }
  return rows
})

/** The rows as a table. */
const table = (rows: ReadonlyArray<Record<string, unknown>>): string => {
  if (rows.length === 0) return 'no environments found (a package declares them with "icrl": { "environments": [...] } in package.json)'
  const width = Math.max(4, ...rows.map((r) => String(r["name"]).length))
  const lines = [`${"NAME".padEnd(width)}  ${"KIND".padEnd(11)}  SPLITS      STEPS  PACKAGE / DESCRIPTION`]
  for (const r of rows) {
    lines.push(
      r["error"] !== undefined
        ? `${String(r["name"]).padEnd(width)}  ${"?".padEnd(11)}  ${"".padEnd(10)}  ${"".padEnd(5)}  ${String(r["package"])}: failed to load: ${String(r["error"])}`
        : `${String(r["name"]).padEnd(width)}  ${String(r["kind"]).padEnd(11)}  train/test  ${String(r["maxSteps"]).padStart(5)}  ${String(r["package"])}: ${String(r["description"])}`,
    )
  }
  return lines.join("\n")
}

/** `envs list`: the name, kind, package and description of every discoverable environment. */
const list = Command.make("list", { json: toggle("json", "print JSON instead of a table") }, (values) =>
  Effect.gen(function* () {
    const rows = yield* rowsOf
    yield* Console.log(values.json ? JSON.stringify(rows, null, 2) : table(rows))
  }),
).pipe(Command.withDescription("List the environments every workspace or installed package declares"))

/** `envs check --env NAME`: the environment doctor's conformance checks; exit 1 when one fails. */
const check = Command.make(
  "check",
  {
    env: envFlag,
    episodes: defaulted(Flag.Int("episodes").pipe(Flag.withSchema(PositiveCount)), 20, "tasks examined per check"),
    seed: defaulted(Flag.Int("seed"), 0, "seed of the tasks and of the random and fuzzed actions"),
    split: defaulted(Flag.Literals("split", splits), "test", "split the episodes come from"),
    ...envOptionFlags,
    json: toggle("json", "print the full report as JSON"),
  },
  (values) =>
    Effect.gen(function* () {
      if (Option.isNone(values.env)) return yield* new FlagError({ flag: "env", detail: "is required (see `bun run envs list`)" })
      const options = yield* envOptionsOf(values)
      const pkg = yield* loadForFlag(values.env)
      // A bad option (an unknown difficulty, say) is a flag error; unreadable data is the doctor's to report.
      yield* checkEnvOptions(pkg, options, [values.split]).pipe(Effect.catchTag("DataError", () => Effect.void))
      const report = yield* checkEnvironment(pkg, {
        episodes: values.episodes,
        seed: values.seed,
        split: values.split,
        ...(Object.keys(options).length > 0 ? { taskOptions: options } : {}),
      })
      yield* Console.log(values.json ? JSON.stringify(report, null, 2) : formatDoctorReport(report))
      if (!report.ok) return yield* new ExitCode({ code: 1 })
    }),
).pipe(Command.withDescription("Put an environment through the conformance checks"))

/** The name in a package.json, or undefined. */
const packageNameIn = (dir: string): string | undefined => {
  try {
    const name: unknown = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name
    return typeof name === "string" ? name : undefined
  } catch {
    return undefined
  }
}

/** Writes the files into a directory that does not exist yet; on a failure the directory is removed again. */
const writePackage = (dir: string, files: ReadonlyMap<string, string>) =>
  Effect.try({
    try: () => {
      try {
        for (const [file, text] of files) {
          mkdirSync(dirname(join(dir, file)), { recursive: true })
          writeFileSync(join(dir, file), text)
        }
      } catch (error) {
        rmSync(dir, { recursive: true, force: true })
        throw error
      }
    },
    catch: (error) => new Error(`could not write ${dir}: ${error instanceof Error ? error.message : String(error)}`),
  })

/** Runs `bun install` in the workspace root; the failure's reason, or undefined when it worked. */
const install = (root: string) =>
  Effect.sync(() => {
    const result = Bun.spawnSync([process.execPath, "install"], { cwd: root, stdout: "pipe", stderr: "pipe" })
    if (result.exitCode === 0) return undefined
    const output = `${result.stderr.toString()}${result.stdout.toString()}`.trim().split("\n").slice(-5).join("\n")
    return `exit code ${result.exitCode}${output === "" ? "" : `:\n${output}`}`
  })

/** `envs new NAME`: a new environment package that passes `envs check` and trains as written. */
const create = Command.make(
  "new",
  {
    name: Argument.String("name").pipe(Argument.withDescription("the environment's name (its package is envs-NAME)")),
    kind: defaulted(Flag.Literals("kind", environmentKinds), "single-turn", "single-turn (a verifiable question) or multi-turn (a text world)"),
    dir: optional(Flag.String("dir"), "where to write the package (default packages/envs-NAME); it must be a workspace folder"),
  },
  (values) =>
    Effect.gen(function* () {
      const { name, kind } = values
      const registry = yield* EnvironmentRegistry
      const root = registry.root
      const problem = environmentNameProblem(name)
      if (problem !== undefined) return yield* new ArgumentError({ argument: "name", detail: problem })
      const taken = (yield* registry.entries).find((entry) => entry.name === name)
      if (taken !== undefined) return yield* new ArgumentError({ argument: "name", detail: `"${name}" is already an environment, in ${taken.packageName}` })
      const packageName = environmentPackageName(name)
      const holder = workspaceDirectories(root).find((dir) => packageNameIn(dir) === packageName)
      if (holder !== undefined) return yield* new ArgumentError({ argument: "name", detail: `the package ${packageName} already exists, in ${relative(process.cwd(), holder)}` })
      const dir = Option.match(values.dir, { onNone: () => join(root, "packages", packageName), onSome: (d) => resolve(d) })
      const shown = relative(process.cwd(), dir) || "."
      if (existsSync(dir)) {
        return yield* Option.isNone(values.dir)
          ? new ArgumentError({ argument: "name", detail: `${shown} already exists; choose another name, or a --dir` })
          : new FlagError({ flag: "dir", detail: `${shown} already exists` })
      }
      if (!isWorkspaceDirectory(root, dir)) {
        return yield* new FlagError({ flag: "dir", detail: `${shown} is not a workspace folder of ${root} (its workspaces are ${workspacePatterns(root).join(", ") || "none"})` })
      }
      const files = scaffoldFiles(name, kind, relative(dir, root))
      yield* writePackage(dir, files)
      yield* Console.log(`wrote ${shown}: the ${kind} environment "${name}" (package ${packageName}), ${files.size} files`)
      const failed = yield* install(root)
      if (failed !== undefined) {
        yield* Console.error(`bun install failed (${failed})\nthe package is written; run \`bun install\` in ${root}, then:`)
      } else {
        yield* Console.log(`bun install: linked ${packageName} into the workspace (bun.lock lists it now: commit it with the package)`)
        yield* Console.log("next:")
      }
      yield* Console.log(nextCommands(name).map((c) => `  ${c}`).join("\n"))
      yield* Console.log(`(${shortRunNote})`)
      if (failed !== undefined) return yield* new ExitCode({ code: 1 })
    }),
).pipe(Command.withDescription("Write a new environment package from a template that passes `envs check` as written"))

/** The `envs` command: `list`, `check` and `new`. */
export const command = Command.make("envs").pipe(
  Command.withDescription("List environments, check one for conformance, or write a new one"),
  Command.withSubcommands([list, check, create]),
)
