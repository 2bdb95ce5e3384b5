import { describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { checkEnvironment, formatDoctorReport } from "@icrl/core"
import { Effect } from "effect"
import { environmentKinds, environmentNameProblem, nextCommands, scaffoldFiles, shortRunNote, templateFiles } from "../src/environmentScaffold.ts"
import { roomsEnvironment, roomsTaskAt } from "../templates/multi-turn/src/index.ts"
import { sortEnvironment, sortTask } from "../templates/single-turn/src/index.ts"
import { repoRoot } from "./cli.ts"

/** The packages a file imports by name (not relative paths). */
const importedPackages = (text: string): Array<string> =>
  [...text.matchAll(/from "([^".][^"]*)"/g)].map((m) => (m[1]!.startsWith("@") ? m[1]!.split("/").slice(0, 2).join("/") : m[1]!.split("/")[0]!))

describe("environment names", () => {
  test("lower-case package names starting with a letter or digit are accepted", () => {
    for (const name of ["quiz", "my-env", "grid.world", "x_1", "2048"]) expect(environmentNameProblem(name)).toBeUndefined()
  })

  test("anything npm would refuse as a new package name is refused, with the reason", () => {
    for (const name of ["", "Quiz", "-x", ".x", "_x", "a/b", "../up", "my env", "é", "a~b", "a(b)"]) {
      expect(environmentNameProblem(name)).toContain("is not a valid package name")
    }
    expect(environmentNameProblem("a".repeat(209))).toBeUndefined()
    expect(environmentNameProblem("a".repeat(210))).toContain("210 characters long")
  })
})

describe.each(environmentKinds)("the %s template", (kind) => {
  const files = scaffoldFiles("my-env", kind, "../..")
  const manifest = JSON.parse(files.get("package.json")!)

  test("is copied whole, with the new name in its one envName line", () => {
    expect([...files.keys()].sort()).toEqual(["README.md", "package.json", "tsconfig.json", ...templateFiles(kind)].sort())
    const named = [...files.values()].filter((text) => text.includes("export const envName ="))
    expect(named).toEqual([expect.stringContaining('export const envName = "my-env"\n')])
    expect(templateFiles(kind)).toContain("src/index.ts")
    expect(templateFiles(kind).some((file) => file.startsWith("test/"))).toBe(true)
  })

  test("package.json declares the environment, the turbo scripts, and every package its code imports", () => {
    expect(manifest).toMatchObject({ name: "envs-my-env", private: true, type: "module", main: "src/index.ts", icrl: { environments: ["my-env"] } })
    expect(manifest.scripts).toEqual({ test: "bun test", typecheck: "tsc --noEmit -p ." })
    const imported = new Set([...files].filter(([file]) => file.endsWith(".ts")).flatMap(([, text]) => importedPackages(text)))
    // The workspace root provides the test tooling (bun:test, fast-check) to every package.
    const declared = new Set([...Object.keys(manifest.dependencies), "bun:test", "fast-check"])
    expect([...imported].filter((name) => !declared.has(name))).toEqual([])
    expect(manifest.dependencies.effect).toBe(JSON.parse(readFileSync(join(repoRoot, "packages", "core", "package.json"), "utf8")).dependencies.effect)
    expect(manifest.dependencies["@icrl/core"]).toBe("workspace:*")
  })

  test("tsconfig.json extends the workspace's base config from the package's depth", () => {
    expect(JSON.parse(files.get("tsconfig.json")!)).toEqual({ extends: "../../tsconfig.base.json", include: ["src", "test"] })
    expect(JSON.parse(scaffoldFiles("my-env", kind, "../../..").get("tsconfig.json")!).extends).toBe("../../../tsconfig.base.json")
  })

  test("the README gives the next commands and says what every source file defines", () => {
    const readme = files.get("README.md")!
    expect(readme).toContain(nextCommands("my-env").join("\n"))
    for (const file of templateFiles(kind).filter((f) => f.startsWith("src/") && f !== "src/index.ts")) expect(readme).toContain(`| \`${file}\` |`)
    expect(readme).not.toMatch(/TODO|FIXME|XXX/)
  })
})

describe("docs/environments.md", () => {
  const guide = readFileSync(join(repoRoot, "docs", "environments.md"), "utf8")
  const blocks = (lang: string) => [...guide.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!)
  const generated = [
    ...scaffoldFiles("quiz", "single-turn", "../..").values(),
    ...scaffoldFiles("maze", "multi-turn", "../..").values(),
    readFileSync(join(repoRoot, "packages", "envs-agentic", "src", "household", "package.ts"), "utf8"),
    readFileSync(join(repoRoot, "packages", "envs-agentic", "src", "trainingDefaults.ts"), "utf8"),
  ]

  test("every TypeScript and JSON block is quoted from the packages `envs new quiz` and `envs new maze --kind multi-turn` write, or from household's and the agentic training defaults", () => {
    const quoted = [...blocks("ts"), ...blocks("json")]
    expect(quoted.length).toBeGreaterThan(5)
    for (const block of quoted) expect(generated.some((text) => text.includes(block))).toBe(true)
  })

  test("the commands it shows are the ones `envs new` prints", () => {
    expect(guide).toContain(nextCommands("quiz").map((c) => `  ${c}`).join("\n"))
    expect(guide).toContain(`(${shortRunNote})`)
  })

  test("the prompts and the envs check report it shows are what the examples produce", async () => {
    const sort = sortTask("sort:example", [4, 7, 1])
    expect(guide).toContain(`\`\`\`text\n${sortEnvironment.renderPrompt({ task: sort, observation: sort.text, history: [] })}\n\`\`\``)
    const rooms = roomsTaskAt(0, "test", 0)
    const start = await Effect.runPromise(roomsEnvironment.make(rooms).reset({ seed: 0 }))
    const first = roomsEnvironment.renderPrompt({ task: rooms, observation: start.observation, history: [], admissibleActions: start.info.admissibleActions ?? [] })
    expect(guide).toContain(`\`\`\`text\n${first}\`\`\``)
    const report = formatDoctorReport(await Effect.runPromise(checkEnvironment({ ...sortEnvironment, name: "quiz" })))
    expect(guide).toContain(`\`\`\`text\n${report.split("\n").slice(0, -1).join("\n")}\n\`\`\``)
  })
})
