import { ptr } from "bun:ffi"
import { CblasNoTrans, CblasRowMajor, CblasTrans, type OpenBlas } from "./OpenBlas.ts"

/** A run of adjacent input dims that are all reduced or all kept. */
export interface SumBlock {
  readonly size: number
  readonly reduce: boolean
}

/**
 * Merges the dims of `shape` into alternating kept/reduced blocks (dims of size 1 disappear:
 * summing over them or keeping them moves no data).
 *
 * @example
 * sumBlocks([64, 64, 4, 32], [0, 2]) // [{64,R}, {64,K}, {4,R}, {32,K}]
 */
export const sumBlocks = (shape: ReadonlyArray<number>, axes: ReadonlyArray<number>): Array<SumBlock> => {
  const blocks: Array<SumBlock> = []
  shape.forEach((size, axis) => {
    if (size === 1) return
    const reduce = axes.includes(axis)
    const last = blocks.at(-1)
    if (last !== undefined && last.reduce === reduce) blocks[blocks.length - 1] = { size: last.size * size, reduce }
    else blocks.push({ size, reduce })
  })
  return blocks
}

/**
 * Number of native calls `runSum` needs for these blocks: per reduced block, one
 * matrix-vector product per outer slice (one in all when the block is innermost).
 *
 * @example
 * sumCalls([{ size: 4096, reduce: true }, { size: 128, reduce: false }]) // 1
 */
export const sumCalls = (blocks: ReadonlyArray<SumBlock>): number => {
  let calls = 0
  let rest = [...blocks]
  while (rest.some((b) => b.reduce)) {
    const j = rest.findIndex((b) => b.reduce)
    const outer = rest.slice(0, j).reduce((acc, b) => acc * b.size, 1)
    const inner = rest.slice(j + 1).reduce((acc, b) => acc * b.size, 1)
    calls += inner === 1 ? 1 : outer
    rest = sumBlocks(
      rest.filter((_, i) => i !== j).map((b) => b.size),
      rest.flatMap((b, i) => (i !== j && b.reduce ? [i < j ? i : i - 1] : []))
    )
  }
  return calls
}

let ones = new Float32Array(0)
let scratch: [Float32Array, Float32Array] = [new Float32Array(0), new Float32Array(0)]

const onesOf = (n: number): Float32Array => {
  if (ones.length < n) ones = new Float32Array(Math.max(n, 2 * ones.length)).fill(1)
  return ones
}

const scratchOf = (which: 0 | 1, n: number): Float32Array => {
  const current = scratch[which]
  if (current.length >= n) return current
  const grown = new Float32Array(Math.max(n, 2 * current.length))
  scratch = which === 0 ? [grown, scratch[1]] : [scratch[0], grown]
  return grown
}

/**
 * Sums float32 data at absolute address `input` (laid out as `blocks`) over the reduced blocks
 * into `output`, one reduced block per pass, as matrix-vector products with a vector of ones.
 * Intermediate passes use scratch memory outside the wasm heap.
 *
 * @example
 * runSum(blas, sumBlocks([4096, 128], [0]), base + xOffset, base + outOffset)
 */
export const runSum = (blas: OpenBlas, blocks: ReadonlyArray<SumBlock>, input: number, output: number): void => {
  let rest = [...blocks]
  let source = input
  let pass = 0
  while (rest.some((b) => b.reduce)) {
    const j = rest.findIndex((b) => b.reduce)
    const r = rest[j]?.size ?? 1
    const outer = rest.slice(0, j).reduce((acc, b) => acc * b.size, 1)
    const inner = rest.slice(j + 1).reduce((acc, b) => acc * b.size, 1)
    const next = sumBlocks(
      rest.filter((_, i) => i !== j).map((b) => b.size),
      rest.flatMap((b, i) => (i !== j && b.reduce ? [i < j ? i : i - 1] : []))
    )
    const last = !next.some((b) => b.reduce)
    const target = last ? output : ptr(scratchOf((pass % 2) as 0 | 1, outer * inner))
    const unit = ptr(onesOf(r))
    if (inner === 1) {
      blas.sgemv(CblasRowMajor, CblasNoTrans, outer, r, 1, source, r, unit, 1, 0, target, 1)
    } else {
      for (let o = 0; o < outer; o++) {
        blas.sgemv(
          CblasRowMajor, CblasTrans, r, inner, 1,
          source + o * r * inner * 4, inner,
          unit, 1, 0, target + o * inner * 4, 1
        )
      }
    }
    source = target
    rest = next
    pass++
  }
}
