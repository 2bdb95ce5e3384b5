import * as tf from "@tensorflow/tfjs-core"
import "@tensorflow/tfjs-backend-wasm"
import { TransformerModel, modelConfig } from "./src/model.ts"
import { ByteTokenizer } from "./src/tokenizer.ts"
import { generate } from "./src/sampler.ts"
import { registerBlasKernels, unregisterBlasKernels, blasKernelNames } from "./src/blas/index.ts"
await tf.setBackend("wasm")
const orig = new Map(blasKernelNames.map(n => [n, tf.getKernel(n, "wasm")]))
registerBlasKernels({ threads: Number(process.env.TH ?? 2) })
const ours = new Map(blasKernelNames.map(n => [n, tf.getKernel(n, "wasm")]))
const set = (modeAt: string) => {
  const [mode, th] = modeAt.split("@")
  if (th !== undefined) registerBlasKernels({ threads: Number(th) })
  for (const n of blasKernelNames) {
    const useOurs = mode === "all" || (mode === "matmul" && (n === "BatchMatMul" || n === "_FusedMatMul"))
    tf.unregisterKernel(n, "wasm"); tf.registerKernel((useOurs ? ours : orig).get(n)!)
  }
}
const modes = (process.argv[2] ?? "wasm,matmul,all").split(",")
const reps = Number(process.argv[3] ?? 5)
const tok = new ByteTokenizer()
const model = new TransformerModel(modelConfig("small", tok.vocabSize), 1)
const B = 64, T = 64
const ids = new Int32Array(B * (T + 1)); for (let i = 0; i < ids.length; i++) ids[i] = (i * 7919) % 256
const all = tf.tensor2d(ids, [B, T + 1], "int32")
const x = tf.slice(all, [0, 0], [B, T]) as tf.Tensor2D
const y = tf.reshape(tf.slice(all, [0, 1], [B, T]), [B * T])
const opt = tf.train.adam(1e-3)
const step = () => {
  const cost = opt.minimize(() => tf.losses.softmaxCrossEntropy(tf.oneHot(y, tok.vocabSize), tf.reshape(model.forward(x), [B * T, tok.vocabSize])), true, model.variables as tf.Variable[])
  cost?.dataSync(); cost?.dispose()
}
const reqs = Array.from({ length: 64 }, (_, i) => ({ prompt: "abcdefghijklmn" + String.fromCharCode(97 + (i % 26)), maxTokens: 48, temperature: 1, seed: i }))
const med = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1]!
const res: Record<string, { train: number[]; sample: number[] }> = {}
for (const m of modes) { set(m); step(); generate(model, tok, reqs.slice(0, 2)); res[m] = { train: [], sample: [] } }
for (let r = 0; r < reps; r++) for (const m of modes) {
  set(m)
  let s = performance.now(); step(); res[m]!.train.push(B * T / ((performance.now() - s) / 1000))
  s = performance.now(); const out = generate(model, tok, reqs); const n = out.reduce((a, c) => a + c.tokenIds.length, 0); res[m]!.sample.push(n / ((performance.now() - s) / 1000))
}
for (const m of modes) console.log(m.padEnd(8), "train tok/s", Math.round(med(res[m]!.train)), " sample new tok/s", Math.round(med(res[m]!.sample)))
