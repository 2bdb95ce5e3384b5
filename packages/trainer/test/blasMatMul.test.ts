import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { broadcastBatchShape, planMatMul } from "../src/blas/matMul.ts"

/** Batch shapes for a and b that broadcast: each dim is shared, or 1 on one side. */
const batchShapes = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.constantFrom("both", "a1", "b1")), { maxLength: 3 })
  .chain((dims) =>
    fc.tuple(fc.constant(dims), fc.nat({ max: dims.length }), fc.nat({ max: dims.length }))
  )
  .map(([dims, dropA, dropB]) => {
    const a = dims.map(([d, mode]) => (mode === "a1" ? 1 : d))
    const b = dims.map(([d, mode]) => (mode === "b1" ? 1 : d))
    return { a: a.slice(dropA), b: b.slice(dropB) }
  })

const flatIndex = (index: ReadonlyArray<number>, dims: ReadonlyArray<number>): number => {
  let flat = 0
  const offset = index.length - dims.length
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i] ?? 1
    flat = flat * d + (d === 1 ? 0 : index[offset + i] ?? 0)
  }
  return flat
}

const unflatten = (flat: number, dims: ReadonlyArray<number>): Array<number> => {
  const out = new Array<number>(dims.length).fill(0)
  let rest = flat
  for (let i = dims.length - 1; i >= 0; i--) {
    const d = dims[i] ?? 1
    out[i] = rest % d
    rest = Math.floor(rest / d)
  }
  return out
}

describe("planMatMul", () => {
  test("each output batch entry reads the broadcast-matching batch entries of a and b", () => {
    fc.assert(
      fc.property(batchShapes, ({ a, b }) => {
        const plan = planMatMul([...a, 2, 3], [...b, 3, 4], false, false)
        const batchDims = broadcastBatchShape(a, b)
        expect(plan.batch).toBe(batchDims.reduce((x, y) => x * y, 1))
        for (let i = 0; i < plan.batch; i++) {
          const index = unflatten(i, batchDims)
          expect(plan.aIndex[i]).toBe(flatIndex(index, a))
          expect(plan.bIndex[i]).toBe(flatIndex(index, b))
        }
      })
    )
  })

  test("output shape is broadcast batch dims followed by rows of op(a) and columns of op(b)", () => {
    fc.assert(
      fc.property(
        batchShapes,
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 5 }),
        fc.boolean(),
        fc.boolean(),
        ({ a, b }, m, n, k, ta, tb) => {
          const aShape = [...a, ...(ta ? [k, m] : [m, k])]
          const bShape = [...b, ...(tb ? [n, k] : [k, n])]
          const plan = planMatMul(aShape, bShape, ta, tb)
          expect(plan.outShape).toEqual([...broadcastBatchShape(a, b), m, n])
          expect([plan.m, plan.n, plan.k]).toEqual([m, n, k])
        }
      )
    )
  })

  test("a shared right operand without transposed left operand becomes one stacked sgemm", () => {
    expect(planMatMul([64, 64, 128], [128, 384], false, false).stacked).toBe(true)
    expect(planMatMul([64, 64, 384], [128, 384], false, true).stacked).toBe(true)
    expect(planMatMul([64, 128, 64], [128, 384], true, false).stacked).toBe(false)
    expect(planMatMul([64, 64, 128], [64, 128, 384], false, false).stacked).toBe(false)
  })

  test("mismatched inner dims and incompatible batch dims are rejected", () => {
    expect(() => planMatMul([2, 3], [4, 5], false, false)).toThrow("inner shapes")
    expect(() => planMatMul([2, 2, 3], [3, 3, 5], false, false)).toThrow("broadcast")
    expect(() => planMatMul([3], [3, 5], false, false)).toThrow("rank")
  })
})
