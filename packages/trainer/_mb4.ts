import * as tf from "@tensorflow/tfjs-core"
import "@tensorflow/tfjs-backend-wasm"
import { registerBlasKernels, unregisterBlasKernels } from "./src/blas/index.ts"
await tf.setBackend("wasm")
const table = tf.randomNormal([259, 128]); const idx = tf.tensor1d(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 259), "int32")
const idx64 = tf.tensor1d(Array.from({ length: 64 }, (_, i) => i), "int32")
const med = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1]!
for (const [name, f] of [["gather 4096", () => tf.gather(table, idx)], ["gather 64", () => tf.gather(table, idx64)]] as Array<[string, () => tf.Tensor]>) {
  const t: Record<string, number[]> = { wasm: [], ours: [] }
  for (let r = 0; r < 7; r++) for (const side of ["wasm", "ours"]) {
    if (side === "wasm") unregisterBlasKernels(); else registerBlasKernels({ threads: 2 })
    f().dispose(); const s = Bun.nanoseconds(); for (let i = 0; i < 10; i++) f().dispose(); t[side]!.push((Bun.nanoseconds() - s) / 10 / 1e3)
  }
  console.log(name, "wasm us", med(t.wasm!).toFixed(0), "ours us", med(t.ours!).toFixed(0))
}
