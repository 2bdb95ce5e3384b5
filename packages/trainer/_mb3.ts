import * as tf from "@tensorflow/tfjs-core"
import "@tensorflow/tfjs-backend-wasm"
await tf.setBackend("wasm")
const table = tf.randomNormal([259, 128]); const idx = tf.tensor1d(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 259), "int32")
const a = tf.randomNormal([4096, 384]), b = tf.randomNormal([4096, 384]), c = tf.randomNormal([64, 64, 4, 32]), cs = tf.randomNormal([1, 64, 1, 32])
const med = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1]!
for (const [name, f] of [["gather", () => tf.gather(table, idx)], ["mul same", () => tf.mul(a, b)], ["mul bcast rope", () => tf.mul(c, cs)], ["add same", () => tf.add(a, b)], ["transpose 0213", () => tf.transpose(c, [0, 2, 1, 3])], ["softmax", () => tf.softmax(tf.reshape(a, [4096 * 6, 64]))], ["mean last", () => tf.mean(a, -1, true)]] as Array<[string, () => tf.Tensor]>) {
  f().dispose(); const t: number[] = []
  for (let r = 0; r < 7; r++) { const s = Bun.nanoseconds(); for (let i = 0; i < 10; i++) f().dispose(); t.push((Bun.nanoseconds() - s) / 10 / 1e3) }
  console.log(name.padEnd(16), med(t).toFixed(0), "us")
}
