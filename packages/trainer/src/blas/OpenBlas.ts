import { dlopen, FFIType, type Pointer } from "bun:ffi"
import { existsSync } from "node:fs"

/** Row-major storage flag of the CBLAS interface. */
export const CblasRowMajor = 101
/** "Use the operand as stored" flag of the CBLAS interface. */
export const CblasNoTrans = 111
/** "Use the transpose of the operand" flag of the CBLAS interface. */
export const CblasTrans = 112

/**
 * Where the system OpenBLAS usually lives on Debian/Ubuntu (pthread build first), then the
 * names the dynamic loader resolves on its own search path.
 */
export const openBlasCandidates: ReadonlyArray<string> = [
  "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
  "/usr/lib64/libopenblas.so.0",
  "/usr/lib/libopenblas.so.0",
  "/usr/local/lib/libopenblas.so.0",
  "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
  "/usr/local/opt/openblas/lib/libopenblas.dylib"
]

const symbols = {
  cblas_sgemm: {
    args: [
      FFIType.i32, FFIType.i32, FFIType.i32,
      FFIType.i32, FFIType.i32, FFIType.i32,
      FFIType.f32, FFIType.ptr, FFIType.i32,
      FFIType.ptr, FFIType.i32,
      FFIType.f32, FFIType.ptr, FFIType.i32
    ],
    returns: FFIType.void
  },
  cblas_sgemv: {
    args: [
      FFIType.i32, FFIType.i32, FFIType.i32, FFIType.i32,
      FFIType.f32, FFIType.ptr, FFIType.i32,
      FFIType.ptr, FFIType.i32,
      FFIType.f32, FFIType.ptr, FFIType.i32
    ],
    returns: FFIType.void
  },
  cblas_somatcopy: {
    args: [
      FFIType.i32, FFIType.i32, FFIType.i32, FFIType.i32,
      FFIType.f32, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.i32
    ],
    returns: FFIType.void
  },
  openblas_set_num_threads: { args: [FFIType.i32], returns: FFIType.void },
  openblas_get_num_threads: { args: [], returns: FFIType.i32 },
  openblas_get_config: { args: [], returns: FFIType.cstring }
} as const

/** Pointer argument accepted by the native calls: an absolute address as a number. */
export type Address = number

/** The subset of OpenBLAS the kernels call, bound through `bun:ffi`. */
export interface OpenBlas {
  /** Path the library was loaded from. */
  readonly path: string
  /** OpenBLAS build description (`openblas_get_config`). */
  readonly config: string
  /** `cblas_sgemm`: C = alpha * op(A) * op(B) + beta * C. */
  readonly sgemm: (
    order: number, transA: number, transB: number,
    m: number, n: number, k: number,
    alpha: number, a: Address, lda: number,
    b: Address, ldb: number,
    beta: number, c: Address, ldc: number
  ) => void
  /** `cblas_sgemv`: y = alpha * op(A) * x + beta * y. */
  readonly sgemv: (
    order: number, trans: number, m: number, n: number,
    alpha: number, a: Address, lda: number,
    x: Address, incx: number,
    beta: number, y: Address, incy: number
  ) => void
  /** `cblas_somatcopy`: B = alpha * op(A) out of place. */
  readonly somatcopy: (
    order: number, trans: number, rows: number, cols: number,
    alpha: number, a: Address, lda: number, b: Address, ldb: number
  ) => void
  /** Sets the number of threads OpenBLAS uses for subsequent calls. */
  readonly setThreads: (threads: number) => void
  /** Threads OpenBLAS currently uses. */
  readonly threads: () => number
}

const loaded = new Map<string, OpenBlas>()

const open = (path: string): OpenBlas => {
  const cached = loaded.get(path)
  if (cached !== undefined) return cached
  const lib = dlopen(path, symbols)
  const s = lib.symbols
  const blas: OpenBlas = {
    path,
    config: String(s.openblas_get_config()),
    sgemm: (order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =>
      s.cblas_sgemm(
        order, transA, transB, m, n, k, alpha, a as Pointer, lda, b as Pointer, ldb, beta, c as Pointer, ldc
      ),
    sgemv: (order, trans, m, n, alpha, a, lda, x, incx, beta, y, incy) =>
      s.cblas_sgemv(order, trans, m, n, alpha, a as Pointer, lda, x as Pointer, incx, beta, y as Pointer, incy),
    somatcopy: (order, trans, rows, cols, alpha, a, lda, b, ldb) =>
      s.cblas_somatcopy(order, trans, rows, cols, alpha, a as Pointer, lda, b as Pointer, ldb),
    setThreads: (threads) => s.openblas_set_num_threads(threads),
    threads: () => s.openblas_get_num_threads()
  }
  loaded.set(path, blas)
  return blas
}

/** Outcome of looking for OpenBLAS: the bound library, or why none could be used. */
export type OpenBlasLookup =
  | { readonly ok: true; readonly blas: OpenBlas }
  | { readonly ok: false; readonly reason: string }

/**
 * Loads OpenBLAS from `library` when given, else from the first of `openBlasCandidates`
 * that exists and binds. Never throws: a missing or unusable library is a reason string.
 *
 * @example
 * const found = loadOpenBlas()
 * if (found.ok) console.log(found.blas.path, found.blas.config)
 */
export const loadOpenBlas = (library?: string): OpenBlasLookup => {
  const paths = library === undefined ? openBlasCandidates : [library]
  const failures: Array<string> = []
  for (const path of paths) {
    if (path.startsWith("/") && !existsSync(path)) {
      failures.push(`${path}: not found`)
      continue
    }
    try {
      return { ok: true, blas: open(path) }
    } catch (error) {
      failures.push(`${path}: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  const hint = library === undefined
    ? " (install the system package, e.g. `apt-get install libopenblas0-pthread`)"
    : ""
  return { ok: false, reason: `OpenBLAS not available${hint}: ${failures.join("; ")}` }
}
