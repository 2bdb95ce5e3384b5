import * as tf from "@tensorflow/tfjs-core"
import "@tensorflow/tfjs-backend-wasm"
import { benchMatMuls } from "./src/blas/benchmark.ts"
import { registerBlasKernels } from "./src/blas/index.ts"
await tf.setBackend("wasm")
const cases = [
  { name: "dec proj", a: [64, 128], b: [128, 128], transposeA: false, transposeB: false },
  { name: "dec up", a: [64, 128], b: [128, 384], transposeA: false, transposeB: false },
  { name: "dec logits", a: [64, 128], b: [259, 128], transposeA: false, transposeB: true },
  { name: "dec scores", a: [64, 4, 1, 32], b: [64, 4, 48, 32], transposeA: false, transposeB: true },
  { name: "dec attend", a: [64, 4, 1, 48], b: [64, 4, 48, 32], transposeA: false, transposeB: false },
  { name: "dec rope", a: [256, 32], b: [32, 32], transposeA: false, transposeB: false },
]
for (const threads of [1, 2]) {
  registerBlasKernels({ threads })
  for (const r of benchMatMuls(cases, { threads, repeats: 5 })) console.log(threads, r.name.padEnd(12), "wasm", r.wasmGflops, "blas", r.blasGflops, "us/call blas", (r.mflop / r.blasGflops).toFixed(1), "wasm", (r.mflop / r.wasmGflops).toFixed(1))
}
