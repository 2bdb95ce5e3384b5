import { appendFileSync, mkdirSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

/** The CLI entry point the comparison starts its runs with. */
export const cliMain = join(dirname(fileURLToPath(import.meta.url)), "..", "main.ts")

export interface ChildResult {
  readonly exitCode: number
  /** Everything the child printed on stdout (the `--json` result). */
  readonly stdout: string
  /** The last non-empty line it printed on stderr (the error, when it failed). */
  readonly lastError: string
  readonly seconds: number
}

const live = new Set<{ kill: (signal?: number | NodeJS.Signals) => void }>()

/**
 * Sends a signal to every child process still running (used when the comparison is interrupted).
 *
 * @example
 * process.on("SIGINT", () => stopChildren("SIGINT"))
 */
export const stopChildren = (signal: NodeJS.Signals = "SIGTERM"): void => {
  for (const child of live) child.kill(signal)
}

/**
 * Runs `bun <cli main> ...args` as a child process: stderr goes line by line to `logPath` (appended)
 * and to `onLine`; stdout is returned. The child's failure is its exit code, never an exception.
 *
 * @example
 * const r = await runCli(["train", "--env", "math", "--steps", "1", "--json"], { logPath: "runs/x/logs/a.log" })
 */
export const runCli = async (
  args: ReadonlyArray<string>,
  options: { readonly logPath: string; readonly onLine?: (line: string) => void; readonly env?: Readonly<Record<string, string>> },
): Promise<ChildResult> => {
  mkdirSync(dirname(options.logPath), { recursive: true })
  appendFileSync(options.logPath, `$ bun ${cliMain} ${args.join(" ")}\n`)
  const started = performance.now()
  const child = Bun.spawn([process.execPath, cliMain, ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...options.env },
  })
  live.add(child)
  let lastError = ""
  const readStderr = async () => {
    const decoder = new TextDecoder()
    let buffer = ""
    const flush = (line: string) => {
      const text = line.replace(/\r/g, "")
      appendFileSync(options.logPath, `${text}\n`)
      if (text.trim() !== "") lastError = text.trim()
      options.onLine?.(text)
    }
    for await (const chunk of child.stderr) {
      buffer += decoder.decode(chunk, { stream: true })
      let nl = buffer.indexOf("\n")
      while (nl >= 0) {
        flush(buffer.slice(0, nl))
        buffer = buffer.slice(nl + 1)
        nl = buffer.indexOf("\n")
      }
    }
    buffer += decoder.decode()
    if (buffer !== "") flush(buffer)
  }
  try {
    const [stdout] = await Promise.all([new Response(child.stdout).text(), readStderr()])
    const exitCode = await child.exited
    appendFileSync(options.logPath, `[exit ${exitCode}]\n`)
    return { exitCode, stdout, lastError, seconds: (performance.now() - started) / 1000 }
  } finally {
    live.delete(child)
  }
}
