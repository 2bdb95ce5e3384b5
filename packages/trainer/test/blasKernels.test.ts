import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import * as tf from "@tensorflow/tfjs-core"
import "@tensorflow/tfjs-backend-cpu"
import "@tensorflow/tfjs-backend-wasm"
import "@tensorflow/tfjs-core/dist/register_all_gradients"
import fc from "fast-check"
import {
  blasKernelNames,
  blasKernelStatus,
  loadOpenBlas,
  registerBlasKernels,
  unregisterBlasKernels
} from "../src/blas/index.ts"

const lookup = loadOpenBlas()
const missing = !lookup.ok
if (!lookup.ok) console.warn(`[blas tests] skipped: ${lookup.reason}`)

type Backend = "cpu" | "wasm"
type Fn = (...xs: Array<tf.Tensor>) => tf.Tensor | Array<tf.Tensor>

const mulberry32 = (seed: number) => {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Data {
  readonly shape: Array<number>
  readonly values: Float32Array
}

const randomData = (shape: Array<number>, seed: number): Data => {
  const next = mulberry32(seed)
  const values = new Float32Array(shape.reduce((a, d) => a * d, 1))
  for (let i = 0; i < values.length; i++) values[i] = next() * 2 - 1
  return { shape, values }
}

/** Runs `fn` on fresh copies of `inputs` on one backend and reads every result back. */
const runOn = async (backend: Backend, inputs: ReadonlyArray<Data>, fn: Fn): Promise<Array<Data>> => {
  await tf.setBackend(backend)
  const before = tf.memory().numTensors
  const xs = inputs.map((d) => tf.tensor(d.values, d.shape, "float32"))
  const outs = tf.tidy(() => {
    const r = fn(...xs)
    return Array.isArray(r) ? r : [r]
  })
  const read = outs.map((t) => ({ shape: t.shape.slice(), values: new Float32Array(t.dataSync()) }))
  tf.dispose(outs)
  tf.dispose(xs)
  expect(tf.memory().numTensors).toBe(before)
  return read
}

const expectClose = (actual: ReadonlyArray<Data>, expected: ReadonlyArray<Data>, rtol = 1e-4): void => {
  expect(actual.length).toBe(expected.length)
  for (let t = 0; t < expected.length; t++) {
    const x = actual[t]!
    const y = expected[t]!
    expect(x.shape).toEqual(y.shape)
    let scale = 1
    for (const v of y.values) scale = Math.max(scale, Math.abs(v))
    for (let i = 0; i < y.values.length; i++) {
      const diff = Math.abs(x.values[i]! - y.values[i]!)
      if (!(diff <= rtol * scale)) {
        throw new Error(`output ${t} element ${i}: ${x.values[i]} vs ${y.values[i]} (scale ${scale})`)
      }
    }
  }
}

/** Same computation under wasm+BLAS and under cpu. */
const agreeWithCpu = async (inputs: ReadonlyArray<Data>, fn: Fn, cpuFn: Fn = fn): Promise<void> => {
  const wasm = await runOn("wasm", inputs, fn)
  const cpu = await runOn("cpu", inputs, cpuFn)
  expectClose(wasm, cpu)
}

/** Batch dims of a and b that broadcast (shared, or 1 on one side, or missing on one side). */
const batchShapes = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.constantFrom("both", "a1", "b1")), { maxLength: 2 })
  .chain((dims) => fc.tuple(fc.constant(dims), fc.nat({ max: dims.length }), fc.nat({ max: dims.length })))
  .map(([dims, dropA, dropB]) => ({
    a: dims.map(([d, mode]) => (mode === "a1" ? 1 : d)).slice(dropA),
    b: dims.map(([d, mode]) => (mode === "b1" ? 1 : d)).slice(dropB)
  }))

/** Matrix sizes with 1 (vector products take their own path) as a frequent value. */
const dim = (max: number) => fc.oneof(fc.constant(1), fc.integer({ min: 1, max }))

const matmulCase = fc.record({
  batch: batchShapes,
  m: dim(24),
  n: dim(24),
  k: fc.integer({ min: 1, max: 40 }),
  transposeA: fc.boolean(),
  transposeB: fc.boolean(),
  seed: fc.integer()
})

type MatmulCase = typeof matmulCase extends fc.Arbitrary<infer T> ? T : never

const operands = (c: MatmulCase): [Data, Data] => [
  randomData([...c.batch.a, ...(c.transposeA ? [c.k, c.m] : [c.m, c.k])], c.seed),
  randomData([...c.batch.b, ...(c.transposeB ? [c.n, c.k] : [c.k, c.n])], c.seed + 1)
]

const outBatch = (c: MatmulCase): Array<number> => {
  const rank = Math.max(c.batch.a.length, c.batch.b.length)
  return Array.from({ length: rank }, (_, i) =>
    Math.max(c.batch.a[c.batch.a.length - rank + i] ?? 1, c.batch.b[c.batch.b.length - rank + i] ?? 1)
  )
}

/** cpu reference: expand both operands to the broadcast batch first (plain batched matmul). */
const cpuMatMul = (c: MatmulCase) => (a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
  const batch = outBatch(c)
  return tf.matMul(
    tf.broadcastTo(a, [...batch, ...a.shape.slice(-2)]),
    tf.broadcastTo(b, [...batch, ...b.shape.slice(-2)]),
    c.transposeA,
    c.transposeB
  )
}

describe("BLAS kernels for the wasm backend", () => {
  let previousBackend = "cpu"

  beforeAll(async () => {
    previousBackend = tf.getBackend() ?? "cpu"
    await tf.setBackend("wasm")
    await tf.setBackend("cpu")
    if (!missing) {
      const registered = registerBlasKernels({ threads: 2 })
      expect(registered.ok).toBe(true)
    }
  })

  afterAll(async () => {
    unregisterBlasKernels()
    await tf.setBackend(previousBackend)
  })

  test.skipIf(missing)("BatchMatMul equals cpu on random shapes, transposes and broadcast batches", async () => {
    await fc.assert(
      fc.asyncProperty(matmulCase, async (c) => {
        await agreeWithCpu(
          operands(c),
          (a, b) => tf.matMul(a!, b!, c.transposeA, c.transposeB),
          (a, b) => cpuMatMul(c)(a!, b!)
        )
      }),
      { numRuns: 60 }
    )
  })

  test.skipIf(missing)("BatchMatMul equals the wasm backend's own kernel", async () => {
    const c: MatmulCase = {
      batch: { a: [3, 4], b: [1] },
      m: 17,
      n: 9,
      k: 33,
      transposeA: true,
      transposeB: true,
      seed: 7
    }
    const fn: Fn = (a, b) => tf.matMul(a!, b!, c.transposeA, c.transposeB)
    const blas = await runOn("wasm", operands(c), fn)
    unregisterBlasKernels()
    expect(blasKernelStatus()).toBeUndefined()
    const native = await runOn("wasm", operands(c), fn)
    expect(registerBlasKernels({ threads: 2 }).ok).toBe(true)
    expectClose(blas, native)
  })

  test.skipIf(missing)("empty operands and a zero inner dimension give cpu's result", async () => {
    for (const [aShape, bShape] of [
      [[0, 5], [5, 3]],
      [[4, 0], [0, 3]],
      [[2, 4, 0], [0, 3]]
    ] as const) {
      await agreeWithCpu(
        [randomData([...aShape], 1), randomData([...bShape], 2)],
        (a, b) => tf.matMul(a!, b!)
      )
    }
    // An empty batch (cpu's kernel mishandles it, so check the shape directly).
    const [empty] = await runOn("wasm", [randomData([0, 4, 5], 3), randomData([5, 2], 4)], (a, b) => tf.matMul(a!, b!))
    expect(empty?.shape).toEqual([0, 4, 2])
    expect(empty?.values.length).toBe(0)
  })

  // tfjs-core's BatchMatMul gradient does not reduce over broadcast batch dims, so gradients
  // are compared on operands with equal batch dims.
  const sameBatchCase = matmulCase.map((c) => ({ ...c, batch: { a: c.batch.a, b: c.batch.a } }))

  test.skipIf(missing)("gradients of a matMul loss equal cpu's for all transposes", async () => {
    await fc.assert(
      fc.asyncProperty(sameBatchCase, async (c) => {
        const batch = outBatch(c)
        const weights = randomData([...batch, c.m, c.n], c.seed + 2)
        const loss = (mm: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) => (a: tf.Tensor, b: tf.Tensor, w: tf.Tensor) =>
          tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.tanh(mm(x, y)), w)))([a, b])
        await agreeWithCpu(
          [...operands(c), weights],
          (a, b, w) => loss((x, y) => tf.matMul(x, y, c.transposeA, c.transposeB))(a!, b!, w!),
          (a, b, w) => loss((x, y) => tf.matMul(x, y, c.transposeA, c.transposeB))(a!, b!, w!)
        )
      }),
      { numRuns: 25 }
    )
  })

  const fusedCase = fc.record({
    m: dim(16),
    n: dim(16),
    k: fc.integer({ min: 1, max: 24 }),
    batch: fc.constantFrom<Array<number>>([], [1], [3]),
    transposeA: fc.boolean(),
    transposeB: fc.boolean(),
    bias: fc.constantFrom("none", "row", "scalar", "row2d", "full"),
    activation: fc.constantFrom("linear", "relu", "relu6", "elu", "sigmoid", "leakyrelu", "prelu"),
    seed: fc.integer()
  })

  test.skipIf(missing)("_FusedMatMul with bias and activation equals cpu", async () => {
    await fc.assert(
      fc.asyncProperty(fusedCase, async (c) => {
        const a = randomData([...c.batch, ...(c.transposeA ? [c.k, c.m] : [c.m, c.k])], c.seed)
        const b = randomData([...c.batch, ...(c.transposeB ? [c.n, c.k] : [c.k, c.n])], c.seed + 1)
        const biasShape =
          c.bias === "row" ? [c.n] : c.bias === "scalar" ? [1] : c.bias === "row2d" ? [1, c.n] : [c.m, c.n]
        const bias = randomData(biasShape, c.seed + 2)
        const prelu = randomData([c.n], c.seed + 3)
        const fn: Fn = (x, y, z, p) =>
          tf.fused.matMul({
            a: x!,
            b: y!,
            transposeA: c.transposeA,
            transposeB: c.transposeB,
            ...(c.bias === "none" ? {} : { bias: z! }),
            activation: c.activation as tf.fused.Activation,
            ...(c.activation === "prelu" ? { preluActivationWeights: p! } : {}),
            leakyreluAlpha: 0.15
          })
        await agreeWithCpu([a, b, bias, prelu], fn)
      }),
      { numRuns: 60 }
    )
  })

  test.skipIf(missing)("gradients through _FusedMatMul with bias and relu equal cpu's", async () => {
    await fc.assert(
      fc.asyncProperty(fusedCase, async (c) => {
        const a = randomData([...c.batch, ...(c.transposeA ? [c.k, c.m] : [c.m, c.k])], c.seed)
        const b = randomData([...c.batch, ...(c.transposeB ? [c.n, c.k] : [c.k, c.n])], c.seed + 1)
        const bias = randomData([c.n], c.seed + 2)
        const fn: Fn = (x, y, z) =>
          tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) =>
            tf.sum(tf.square(tf.fused.matMul({
              a: p, b: q, bias: r, activation: "relu", transposeA: c.transposeA, transposeB: c.transposeB
            })))
          )([x!, y!, z!])
        await agreeWithCpu([a, b, bias], fn)
      }),
      { numRuns: 20 }
    )
  })

  test.skipIf(missing)("outputs stay correct when the wasm heap grows inside and between calls", async () => {
    // The product's output alone exceeds the current heap, so makeOutput must grow it.
    await tf.setBackend("wasm")
    const heap = () => (tf.findBackend("wasm") as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.byteLength
    const before = heap()
    const cols = Math.ceil(before / (4 * 512)) + 1
    const big = [randomData([512, 2], 11), randomData([2, cols], 12)]
    await agreeWithCpu(big, (a, b) => tf.sum(tf.matMul(a!, b!), 1))
    expect(heap()).toBeGreaterThan(before)
    const small = [randomData([5, 7], 13), randomData([7, 3], 14)]
    const first = await runOn("wasm", small, (a, b) => tf.matMul(a!, b!))
    await tf.setBackend("wasm")
    const ballast = tf.zeros([8 * 1024 * 1024])
    const second = await runOn("wasm", small, (a, b) => tf.matMul(a!, b!))
    ballast.dispose()
    expectClose(second, first, 0)
  })

  test.skipIf(missing)("the wasm backend's tensor storage stays flat over repeated fused calls", async () => {
    await tf.setBackend("wasm")
    const a = tf.randomNormal([6, 5])
    const b = tf.randomNormal([5, 4])
    const bias = tf.randomNormal([6, 4])
    const engineBackend = tf.backend() as unknown as { numDataIds(): number }
    const run = () => tf.tidy(() => tf.fused.matMul({ a, b, bias, activation: "sigmoid" })).dispose()
    run()
    const before = engineBackend.numDataIds()
    for (let i = 0; i < 20; i++) run()
    expect(engineBackend.numDataIds()).toBe(before)
    tf.dispose([a, b, bias])
  })

  test.skipIf(missing)("unregistering restores the wasm backend's original kernel configs", () => {
    expect(blasKernelStatus()?.kernels).toEqual(blasKernelNames)
    const ours = blasKernelNames.map((name) => tf.getKernel(name, "wasm"))
    expect(unregisterBlasKernels()).toBe(true)
    expect(unregisterBlasKernels()).toBe(false)
    const originals = blasKernelNames.map((name) => tf.getKernel(name, "wasm"))
    originals.forEach((original, i) => {
      expect(original).toBeDefined()
      expect(original).not.toBe(ours[i])
    })
    const again = registerBlasKernels({ threads: 1 })
    expect(again.ok && again.threads).toBe(1)
    blasKernelNames.forEach((name, i) => expect(tf.getKernel(name, "wasm")).not.toBe(originals[i]))
    expect(registerBlasKernels({ threads: 2 }).ok).toBe(true)
  })

  const sumCase = fc
    .array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 })
    .chain((shape) =>
      fc.record({
        shape: fc.constant(shape),
        axes: fc.oneof(
          fc.constant(undefined),
          fc.subarray(shape.map((_, i) => i), { minLength: 1 }).chain((axes) =>
            fc.tuple(...axes.map((a) => fc.constantFrom(a, a - shape.length)))
          )
        ),
        keepDims: fc.boolean(),
        seed: fc.integer()
      })
    )

  test.skipIf(missing)("Sum over any axes, with or without keepDims, equals cpu", async () => {
    await fc.assert(
      fc.asyncProperty(sumCase, async (c) => {
        await agreeWithCpu([randomData(c.shape, c.seed)], (x) => tf.sum(x!, c.axes, c.keepDims))
      }),
      { numRuns: 80 }
    )
    // Shapes of a training step: gain gradients, broadcast gradients, many small slices.
    for (const [shape, axes] of [
      [[4096, 128], [0]],
      [[64, 64, 4, 32], [0, 2]],
      [[64, 64, 4, 32], [0, 1, 2]],
      [[8, 300, 6], [1]],
      [[600, 3, 5], [1]]
    ] as const) {
      await agreeWithCpu([randomData([...shape], 5)], (x) => tf.sum(x!, [...axes]))
    }
  })

  test.skipIf(missing)("int32 sums and real casts go to the original kernels and equal cpu", async () => {
    const data = randomData([3, 4, 5], 9)
    await agreeWithCpu([data], (x) => tf.cast(tf.sum(tf.cast(tf.mul(x!, 100), "int32"), 1), "float32"))
    await agreeWithCpu([data], (x) => tf.cast(tf.cast(tf.greater(x!, 0), "int32"), "float32"))
  })

  test.skipIf(missing)("Identity and same-dtype Cast share storage and outlive their source", async () => {
    await tf.setBackend("wasm")
    const backend = tf.backend() as unknown as { numDataIds(): number }
    const x = tf.tensor([1, 2, 3, 4], [2, 2])
    const before = backend.numDataIds()
    const copy = tf.clone(x)
    const same = tf.cast(x, "float32")
    expect(backend.numDataIds()).toBe(before)
    x.dispose()
    expect(Array.from(copy.dataSync())).toEqual([1, 2, 3, 4])
    expect(Array.from(same.dataSync())).toEqual([1, 2, 3, 4])
    copy.dispose()
    expect(Array.from(same.dataSync())).toEqual([1, 2, 3, 4])
    same.dispose()
    expect(backend.numDataIds()).toBe(before - 1)
  })

  const gatherCase = fc
    .record({
      shape: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 3 }),
      indexShape: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 2 }),
      intData: fc.boolean(),
      seed: fc.integer()
    })
    .chain((c) => fc.record({ axis: fc.integer({ min: 0, max: c.shape.length - 1 }), rest: fc.constant(c) }))

  test.skipIf(missing)("GatherV2 on any axis, float32 or int32, equals cpu", async () => {
    await fc.assert(
      fc.asyncProperty(gatherCase, async ({ axis, rest: c }) => {
        const dim = c.shape[axis]!
        const next = mulberry32(c.seed)
        const count = c.indexShape.reduce((a, d) => a * d, 1)
        const indices = { shape: c.indexShape, values: Float32Array.from({ length: count }, () => Math.floor(next() * dim)) }
        await agreeWithCpu([randomData(c.shape, c.seed), indices], (x, i) => {
          const data = c.intData ? tf.cast(tf.mul(x!, 1000), "int32") : x!
          return tf.cast(tf.gather(data, tf.cast(i!, "int32"), axis), "float32")
        })
      }),
      { numRuns: 60 }
    )
    // The embedding lookup of a training batch.
    const ids = { shape: [4096], values: Float32Array.from({ length: 4096 }, (_, i) => (i * 7919) % 259) }
    await agreeWithCpu([randomData([259, 128], 3), ids], (x, i) => tf.gather(x!, tf.cast(i!, "int32")))
  })

  test.skipIf(missing)("GatherV2 rejects out-of-range indices as cpu does, leaking nothing", async () => {
    await tf.setBackend("wasm")
    const backend = tf.backend() as unknown as { numDataIds(): number }
    const x = tf.zeros([4, 16])
    const bad = tf.tensor1d([1, 4], "int32")
    const before = backend.numDataIds()
    expect(() => tf.gather(x, bad)).toThrow("GatherV2: the index value 4 is not in [0, 3]")
    expect(backend.numDataIds()).toBe(before)
    tf.dispose([x, bad])
  })

  test.skipIf(missing)("gradients of broadcast products (reduced by Sum) equal cpu's", async () => {
    const x = randomData([8, 16, 4, 32], 21)
    const cos = randomData([1, 16, 1, 32], 22)
    const gain = randomData([32], 23)
    await agreeWithCpu([x, cos, gain], (a, b, g) =>
      tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => tf.sum(tf.square(tf.mul(tf.mul(p, q), r))))([a!, b!, g!])
    )
  })
})

describe("registering before the wasm backend initializes", () => {
  test.skipIf(missing)("kernels, their fallbacks and the restored originals all work in a fresh process", () => {
    const script = [
      'import * as tf from "@tensorflow/tfjs-core"',
      'import { registerBlasKernels, unregisterBlasKernels } from "./src/blas/index.ts"',
      "const registered = registerBlasKernels({ threads: 1 })",
      'await tf.setBackend("wasm")',
      "const read = (t) => Array.from(t.dataSync())",
      "const ours = [read(tf.matMul(tf.ones([2, 3]), tf.ones([3, 2]))), read(tf.sum(tf.ones([5, 4], 'int32'), 0))]",
      "unregisterBlasKernels()",
      "const restored = [read(tf.matMul(tf.ones([2, 3]), tf.ones([3, 2]))), read(tf.sum(tf.ones([5, 4]), 0))]",
      "console.log(JSON.stringify({ ok: registered.ok, ours, restored }))"
    ].join("\n")
    const run = Bun.spawnSync([process.execPath, "-e", script], { cwd: `${import.meta.dir}/..`, stdout: "pipe", stderr: "pipe" })
    expect(run.stderr.toString()).toBe("")
    expect(JSON.parse(run.stdout.toString())).toEqual({
      ok: true,
      ours: [[3, 3, 3, 3], [5, 5, 5, 5]],
      restored: [[3, 3, 3, 3], [5, 5, 5, 5]]
    })
  })
})

describe("registerBlasKernels without a usable library", () => {
  test("a missing library path registers nothing and names the reason", () => {
    const wasActive = blasKernelStatus()
    const kernelBefore = tf.getKernel("BatchMatMul", "wasm")
    const result = registerBlasKernels({ library: "/nonexistent/libopenblas.so.0" })
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.reason).toContain("/nonexistent/libopenblas.so.0")
    expect(tf.getKernel("BatchMatMul", "wasm")).toBe(kernelBefore)
    expect(blasKernelStatus()).toEqual(wasActive)
  })

  test("a non-positive thread count is rejected", () => {
    const result = registerBlasKernels({ threads: 0 })
    expect(result.ok).toBe(false)
  })
})
