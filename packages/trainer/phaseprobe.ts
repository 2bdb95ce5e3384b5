import { environments } from "../envs-math/src/index.ts"
import { TransformerModel, modelConfig, ByteTokenizer, warmStart, selectBackend } from "./src/index.ts"
await selectBackend("auto")
const env = environments.find((e) => e.name === "math")!
const diff = process.argv[2] ?? "1"
const s1 = Number(process.argv[3] ?? 300), s2 = Number(process.argv[4] ?? 300)
const tok = new ByteTokenizer()
const model = new TransformerModel(modelConfig("small", tok.vocabSize), 0)
const all = env.warmStart!({ seed: 0, count: 20000, options: { difficulty: diff } })
const t0 = performance.now()
const r1 = await warmStart({ env, model, tokenizer: tok, steps: s1, batchSize: 32, lr: 3e-3, seed: 0, demonstrations: all.filter((d) => d.role === "solver"), evalTasks: 100, envOptions: { difficulty: diff } } as any)
console.log("phase1", ((performance.now() - t0) / 1000).toFixed(0), "s", r1.finalLoss.toFixed(3), r1.evaluation)
if (s2 === 0) process.exit(0)
const r2 = await warmStart({ env, model, tokenizer: tok, steps: s2, batchSize: 32, lr: 1e-3, seed: 1, demonstrations: all, evalTasks: 100, envOptions: { difficulty: diff } } as any)
console.log("phase2", ((performance.now() - t0) / 1000).toFixed(0), "s", r2.finalLoss.toFixed(3), r2.evaluation)
