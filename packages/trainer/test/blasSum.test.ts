import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { sumBlocks, sumCalls } from "../src/blas/sum.ts"

const shapeAndAxes = fc
  .array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 5 })
  .chain((shape) => fc.tuple(fc.constant(shape), fc.subarray(shape.map((_, i) => i))))

describe("sumBlocks", () => {
  test("blocks alternate kept/reduced and multiply to the kept and reduced sizes", () => {
    fc.assert(
      fc.property(shapeAndAxes, ([shape, axes]) => {
        const blocks = sumBlocks(shape, axes)
        for (let i = 1; i < blocks.length; i++) expect(blocks[i]!.reduce).not.toBe(blocks[i - 1]!.reduce)
        const reduced = axes.reduce((acc, a) => acc * shape[a]!, 1)
        const kept = shape.reduce((acc, d) => acc * d, 1) / reduced
        expect(blocks.filter((b) => b.reduce).reduce((acc, b) => acc * b.size, 1)).toBe(reduced)
        expect(blocks.filter((b) => !b.reduce).reduce((acc, b) => acc * b.size, 1)).toBe(kept)
        expect(blocks.every((b) => b.size > 1)).toBe(true)
      })
    )
  })

  test("a leading reduction is one call; a middle one is one call per outer slice", () => {
    expect(sumBlocks([4096, 128], [0])).toEqual([{ size: 4096, reduce: true }, { size: 128, reduce: false }])
    expect(sumCalls(sumBlocks([4096, 128], [0]))).toBe(1)
    expect(sumCalls(sumBlocks([4096, 128], [1]))).toBe(1)
    expect(sumCalls(sumBlocks([64, 64, 4, 32], [0, 2]))).toBe(1 + 64)
    expect(sumCalls(sumBlocks([1, 64, 1, 32], [0, 2]))).toBe(0)
  })
})
