import { CblasNoTrans, CblasRowMajor, CblasTrans, type OpenBlas } from "./OpenBlas.ts"

/**
 * How a (batched, broadcast) matrix product maps onto sgemm calls: the output shape, the
 * matrix sizes and, per output batch entry, which batch entry of `a` and of `b` it reads.
 */
export interface MatMulPlan {
  readonly outShape: Array<number>
  /** Number of output matrices (product of the broadcast batch dims). */
  readonly batch: number
  /** Rows of op(a) and of the output. */
  readonly m: number
  /** Columns of op(b) and of the output. */
  readonly n: number
  /** Shared (inner) dimension. */
  readonly k: number
  readonly transposeA: boolean
  readonly transposeB: boolean
  /** Batch entry of `a` read by each output batch entry. */
  readonly aIndex: Int32Array
  /** Batch entry of `b` read by each output batch entry. */
  readonly bIndex: Int32Array
  /** All output matrices come from one sgemm on `a` seen as a [batch * m, k] matrix. */
  readonly stacked: boolean
}

const product = (dims: ReadonlyArray<number>): number => dims.reduce((acc, d) => acc * d, 1)

/**
 * Broadcast shape of two batch-dimension lists under NumPy rules (right-aligned; a dim of 1
 * stretches); throws with both shapes named when they are incompatible.
 *
 * @example
 * broadcastBatchShape([2, 1], [3]) // [2, 3]
 */
export const broadcastBatchShape = (
  a: ReadonlyArray<number>,
  b: ReadonlyArray<number>
): Array<number> => {
  const rank = Math.max(a.length, b.length)
  const out = new Array<number>(rank)
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1
    const db = b[b.length - rank + i] ?? 1
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `Operands could not be broadcast together with shapes ${a.join(",")} and ${b.join(",")}.`
      )
    }
    out[i] = da === 1 ? db : da
  }
  return out
}

/** For each entry of the broadcast batch, the flat batch entry of an operand with `dims`. */
const sourceIndex = (outDims: ReadonlyArray<number>, dims: ReadonlyArray<number>): Int32Array => {
  const total = product(outDims)
  const index = new Int32Array(total)
  const rank = outDims.length
  const strides = new Array<number>(rank).fill(0)
  let stride = 1
  for (let i = rank - 1; i >= 0; i--) {
    const d = dims[dims.length - rank + i] ?? 1
    strides[i] = d === 1 ? 0 : stride
    stride *= d
  }
  const counter = new Array<number>(rank).fill(0)
  let offset = 0
  for (let flat = 0; flat < total; flat++) {
    index[flat] = offset
    for (let i = rank - 1; i >= 0; i--) {
      const next = (counter[i] ?? 0) + 1
      if (next < (outDims[i] ?? 1)) {
        counter[i] = next
        offset += strides[i] ?? 0
        break
      }
      counter[i] = 0
      offset -= (strides[i] ?? 0) * (next - 1)
    }
  }
  return index
}

/**
 * Plans `matMul(a, b, transposeA, transposeB)` for operands of rank >= 2 with TensorFlow.js
 * semantics: the last two dims are the matrices, the leading dims broadcast.
 *
 * @example
 * const plan = planMatMul([64, 64, 128], [128, 384], false, false)
 * // plan.outShape = [64, 64, 384], plan.stacked = true (one [4096,128]x[128,384] sgemm)
 */
export const planMatMul = (
  aShape: ReadonlyArray<number>,
  bShape: ReadonlyArray<number>,
  transposeA: boolean,
  transposeB: boolean
): MatMulPlan => {
  const aRank = aShape.length
  const bRank = bShape.length
  if (aRank < 2 || bRank < 2) {
    throw new Error(`Error in matMul: inputs must be rank >= 2, got ${aRank} and ${bRank}.`)
  }
  const aRows = aShape[aRank - 2] ?? 0
  const aCols = aShape[aRank - 1] ?? 0
  const bRows = bShape[bRank - 2] ?? 0
  const bCols = bShape[bRank - 1] ?? 0
  const m = transposeA ? aCols : aRows
  const kA = transposeA ? aRows : aCols
  const kB = transposeB ? bCols : bRows
  const n = transposeB ? bRows : bCols
  if (kA !== kB) {
    throw new Error(
      `Error in matMul: inner shapes (${kA}) and (${kB}) of Tensors with shapes ` +
        `${aShape.join(",")} and ${bShape.join(",")} and transposeA=${transposeA} and ` +
        `transposeB=${transposeB} must match.`
    )
  }
  const aBatchDims = aShape.slice(0, -2)
  const bBatchDims = bShape.slice(0, -2)
  const batchDims = broadcastBatchShape(aBatchDims, bBatchDims)
  const batch = product(batchDims)
  const aIndex = sourceIndex(batchDims, aBatchDims)
  const bIndex = sourceIndex(batchDims, bBatchDims)
  const stacked = !transposeA && product(bBatchDims) === 1 && product(aBatchDims) === batch
  return {
    outShape: [...batchDims, m, n],
    batch,
    m,
    n,
    k: kA,
    transposeA,
    transposeB,
    aIndex,
    bIndex,
    stacked
  }
}

/**
 * Runs a planned product with `cblas_sgemm` on absolute addresses of row-major float32 data:
 * out = a·b (+ out when `accumulate`, e.g. over a pre-filled bias). Requires k > 0.
 *
 * @example
 * runMatMul(blas, plan, base + aOffset, base + bOffset, base + outOffset, false)
 */
export const runMatMul = (
  blas: OpenBlas,
  plan: MatMulPlan,
  a: number,
  b: number,
  out: number,
  accumulate: boolean
): void => {
  const { m, n, k, batch } = plan
  const transA = plan.transposeA ? CblasTrans : CblasNoTrans
  const transB = plan.transposeB ? CblasTrans : CblasNoTrans
  const lda = Math.max(1, plan.transposeA ? m : k)
  const ldb = Math.max(1, plan.transposeB ? k : n)
  const ldc = Math.max(1, n)
  const beta = accumulate ? 1 : 0
  if (plan.stacked && batch > 1) {
    blas.sgemm(CblasRowMajor, transA, transB, batch * m, n, k, 1, a, lda, b, ldb, beta, out, ldc)
    return
  }
  const aBytes = m * k * 4
  const bBytes = k * n * 4
  const outBytes = m * n * 4
  const { aIndex, bIndex } = plan
  if (m === 1) {
    // out (1 x n) = a (1 x k) · op(b): a matrix-vector product with op(b) transposed; a is
    // contiguous either way. sgemv's per-call cost is a fraction of sgemm's for these sizes.
    const transV = plan.transposeB ? CblasNoTrans : CblasTrans
    const rows = plan.transposeB ? n : k
    const cols = plan.transposeB ? k : n
    for (let i = 0; i < batch; i++) {
      blas.sgemv(
        CblasRowMajor, transV, rows, cols, 1,
        b + (bIndex[i] ?? 0) * bBytes, ldb,
        a + (aIndex[i] ?? 0) * aBytes, 1,
        beta, out + i * outBytes, 1
      )
    }
    return
  }
  if (n === 1) {
    // out (m x 1) = op(a) · b (k x 1); b is contiguous either way.
    const transV = plan.transposeA ? CblasTrans : CblasNoTrans
    const rows = plan.transposeA ? k : m
    const cols = plan.transposeA ? m : k
    for (let i = 0; i < batch; i++) {
      blas.sgemv(
        CblasRowMajor, transV, rows, cols, 1,
        a + (aIndex[i] ?? 0) * aBytes, lda,
        b + (bIndex[i] ?? 0) * bBytes, 1,
        beta, out + i * outBytes, 1
      )
    }
    return
  }
  for (let i = 0; i < batch; i++) {
    blas.sgemm(
      CblasRowMajor, transA, transB, m, n, k, 1,
      a + (aIndex[i] ?? 0) * aBytes, lda,
      b + (bIndex[i] ?? 0) * bBytes, ldb,
      beta, out + i * outBytes, ldc
    )
  }
}
