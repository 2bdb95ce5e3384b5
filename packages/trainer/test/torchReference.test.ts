import { afterAll, describe, expect, test } from "bun:test"
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { findTorchPython, torchShapes } from "../src/blas/index.ts"
import { modelConfig, presets, type PresetName } from "../src/index.ts"

const root = mkdtempSync(join(tmpdir(), "icrl-torch-python-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** An executable that answers the import probe like a Python with that torch version (or fails the import). */
const fakePython = (name: string, version: string | undefined): string => {
  const path = join(root, name)
  const body = version === undefined ? 'echo "ModuleNotFoundError: No module named torch" >&2; exit 1' : `echo "${version}"`
  writeFileSync(path, `#!/bin/sh\n${body}\n`)
  chmodSync(path, 0o755)
  return path
}

describe("findTorchPython", () => {
  test("prefers a torch 2.x over a 1.x found earlier, skips interpreters without torch and missing paths", () => {
    const none = fakePython("no-torch", undefined)
    const old = fakePython("debian-torch", "1.13.1")
    const recent = fakePython("venv-torch", "2.13.0+cpu")
    expect(findTorchPython([join(root, "missing"), none, old, recent])).toBe(recent)
    expect(findTorchPython([recent, old])).toBe(recent)
    expect(findTorchPython([none, old])).toBe(old)
    expect(findTorchPython([none, join(root, "missing")])).toBeUndefined()
  })

  test("on a tie of major versions the first listed wins", () => {
    const a = fakePython("a", "2.1.0")
    const b = fakePython("b", "2.13.0")
    expect(findTorchPython([a, b])).toBe(a)
  })
})

describe("torchShapes", () => {
  test("every preset's shapes reach the reference (it ran small's whatever the preset was)", () => {
    const seen = new Set<string>()
    for (const preset of Object.keys(presets) as Array<PresetName>) {
      const config = modelConfig(preset, 259)
      const shapes = torchShapes(config)
      expect(shapes).toEqual({ vocab: 259, dModel: config.dModel, layers: config.nLayers, heads: config.nHeads, kvHeads: config.nKvHeads, ff: config.dFf })
      seen.add(JSON.stringify(shapes))
    }
    expect(seen.size).toBe(Object.keys(presets).length)
  })
})
