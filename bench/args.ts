/** Command-line helpers shared by the benchmark scripts: flags by name, and exit code 2 on bad input. */

/** The value of `--name V` or `--name=V`, if given. */
export const flagValue = (argv: ReadonlyArray<string>, name: string): string | undefined => {
  const at = argv.indexOf(`--${name}`)
  if (at >= 0) return argv[at + 1]
  return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
}

/** Prints the message and exits with code 2 (bad command-line input). */
export const fail = (message: string): never => {
  console.error(message)
  process.exit(2)
}

/** A positive number flag (an integer unless `integer` is false); `fallback` when absent, exit 2 when bad. */
export const positiveFlag = (argv: ReadonlyArray<string>, name: string, fallback: number, integer = true): number => {
  const raw = flagValue(argv, name)
  if (raw === undefined) return fallback
  const n = Number(raw)
  return Number.isFinite(n) && n > 0 && (!integer || Number.isInteger(n)) ? n : fail(`--${name} must be a positive ${integer ? "integer" : "number"}, got ${raw}`)
}
