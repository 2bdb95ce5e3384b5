import * as tf from "@tensorflow/tfjs-core"
import "@tensorflow/tfjs-backend-wasm"
import { TransformerModel, modelConfig } from "./src/model.ts"
import { ByteTokenizer } from "./src/tokenizer.ts"
import { generate } from "./src/sampler.ts"
import { registerBlasKernels, unregisterBlasKernels } from "./src/blas/index.ts"
await tf.setBackend("wasm")
const mode = process.argv[2] ?? "blas"
const prof = process.argv.includes("--profile")
if (mode === "blas") console.log(registerBlasKernels({ threads: 2 }))
const tok = new ByteTokenizer()
const model = new TransformerModel(modelConfig("small", tok.vocabSize), 1)
const B = 64, T = 64
const ids = new Int32Array(B * (T + 1)); for (let i = 0; i < ids.length; i++) ids[i] = (i * 7919) % 256
const all = tf.tensor2d(ids, [B, T + 1], "int32")
const x = tf.slice(all, [0, 0], [B, T]) as tf.Tensor2D
const y = tf.reshape(tf.slice(all, [0, 1], [B, T]), [B * T])
const opt = tf.train.adam(1e-3)
const step = () => {
  const cost = opt.minimize(() => {
    const logits = tf.reshape(model.forward(x), [B * T, tok.vocabSize])
    return tf.losses.softmaxCrossEntropy(tf.oneHot(y, tok.vocabSize), logits)
  }, true, model.variables as tf.Variable[])
  cost?.dataSync(); cost?.dispose()
}
const med = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1]!
step()
if (prof) {
  const info = await tf.profile(() => { step() })
  const agg = new Map<string, [number, number]>()
  for (const k of info.kernels) { const t = await (k.kernelTimeMs as any); const e = agg.get(k.name) ?? [0, 0]; e[0] += typeof t === "number" ? t : 0; e[1]++; agg.set(k.name, e) }
  const rows = [...agg].sort((a, b) => b[1][0] - a[1][0]).slice(0, 18)
  const agg2 = new Map<string, [number, number]>()
  for (const k of info.kernels) { const t = await (k.kernelTimeMs as any); const key = k.name + " " + JSON.stringify(k.inputShapes) + (k.name === "Sum" || k.name === "Transpose" || k.name === "Cast" ? JSON.stringify((k as any).extraInfo ?? "") : ""); const e = agg2.get(key) ?? [0, 0]; e[0] += typeof t === "number" ? t : 0; e[1]++; agg2.set(key, e) }
  for (const [n, [t, c]] of [...agg2].sort((a, b) => b[1][0] - a[1][0]).slice(0, 40)) console.log("  ", t.toFixed(1).padStart(7), String(c).padStart(4), n)
  const total = [...agg.values()].reduce((s, v) => s + v[0], 0)
  console.log("train profile total ms", total.toFixed(0)); for (const [n, [t, c]] of rows) console.log(n.padEnd(24), t.toFixed(1).padStart(8), String(c).padStart(5))
}
const tt: number[] = []
for (let r = 0; r < 5; r++) { const s = performance.now(); step(); tt.push(performance.now() - s) }
console.log(mode, "train tok/s", Math.round(B * T / (med(tt) / 1000)), tt.map(Math.round))
const reqs = Array.from({ length: 64 }, (_, i) => ({ prompt: "abcdefghijklmn".slice(0, 15) + String.fromCharCode(97 + (i % 26)), maxTokens: 48, temperature: 1, seed: i }))
generate(model, tok, reqs.slice(0, 4).map(r => ({ ...r, maxTokens: 4 })))
if (prof) {
  const info = await tf.profile(() => { generate(model, tok, reqs) })
  const agg = new Map<string, [number, number]>()
  for (const k of info.kernels) { const t = await (k.kernelTimeMs as any); const e = agg.get(k.name) ?? [0, 0]; e[0] += typeof t === "number" ? t : 0; e[1]++; agg.set(k.name, e) }
  const rows = [...agg].sort((a, b) => b[1][0] - a[1][0]).slice(0, 14)
  const total = [...agg.values()].reduce((s, v) => s + v[0], 0)
  const agg3 = new Map<string, [number, number]>()
  for (const k of info.kernels) { if (k.name !== "BatchMatMul") continue; const t = await (k.kernelTimeMs as any); const key = JSON.stringify(k.inputShapes) + JSON.stringify((k as any).attrs ?? ""); const e = agg3.get(key) ?? [0, 0]; e[0] += typeof t === "number" ? t : 0; e[1]++; agg3.set(key, e) }
  for (const [n, [t, c]] of [...agg3].sort((a, b) => b[1][0] - a[1][0]).slice(0, 12)) console.log("  ", t.toFixed(1).padStart(7), String(c).padStart(4), n)
  console.log("sample profile total ms", total.toFixed(0)); for (const [n, [t, c]] of rows) console.log(n.padEnd(24), t.toFixed(1).padStart(8), String(c).padStart(5))
}
const st: number[] = []; let newTok = 0
for (let r = 0; r < 3; r++) { const s = performance.now(); const out = generate(model, tok, reqs); st.push(performance.now() - s); newTok = out.reduce((n, c) => n + c.tokenIds.length, 0) }
console.log(mode, "sample new tok/s", Math.round(newTok / (med(st) / 1000)), "tokens", newTok, st.map(Math.round))
