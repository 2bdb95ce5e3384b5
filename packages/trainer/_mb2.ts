import * as tf from "@tensorflow/tfjs-core"
import "@tensorflow/tfjs-backend-wasm"
import { registerBlasKernels, unregisterBlasKernels } from "./src/blas/index.ts"
await tf.setBackend("wasm")
const x = tf.randomNormal([4096, 128]), y = tf.randomNormal([64, 64, 4, 32]), z = tf.randomNormal([4096, 384])
const cases: Array<[string, () => tf.Tensor]> = [
  ["Sum [4096,128] axis 0", () => tf.sum(x, 0)],
  ["Sum [64,64,4,32] axes 0,2", () => tf.sum(y, [0, 2])],
  ["Sum [64,64,4,32] axes 0,1,2", () => tf.sum(y, [0, 1, 2])],
  ["Identity [4096,384]", () => tf.clone(z)],
  ["Cast f32 [4096,384]", () => tf.cast(z, "float32")],
]
const med = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1]!
for (const [name, f] of cases) {
  const t: Record<string, number[]> = { wasm: [], blas: [] }
  for (let r = 0; r < 7; r++) for (const side of ["wasm", "blas"]) {
    if (side === "wasm") unregisterBlasKernels(); else registerBlasKernels({ threads: 2 })
    f().dispose()
    const s = Bun.nanoseconds(); for (let i = 0; i < 20; i++) f().dispose(); t[side]!.push((Bun.nanoseconds() - s) / 20 / 1e3)
  }
  console.log(name.padEnd(30), "wasm us", med(t.wasm!).toFixed(0), " ours us", med(t.blas!).toFixed(0))
}
