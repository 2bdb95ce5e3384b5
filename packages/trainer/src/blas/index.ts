export {
  blasKernelConfigs,
  blasKernelNames,
  blasKernelStatus,
  registerBlasKernels,
  unregisterBlasKernels,
  type BlasOptions,
  type BlasRegistration
} from "./registerBlasKernels.ts"
export { broadcastBatchShape, planMatMul, runMatMul, type MatMulPlan } from "./matMul.ts"
export { loadOpenBlas, openBlasCandidates, type OpenBlas, type OpenBlasLookup } from "./OpenBlas.ts"
export { asWasmBackend, heapBase, memoryOffset, type WasmBackendLike } from "./wasmHeap.ts"
export { runSum, sumBlocks, sumCalls, type SumBlock } from "./sum.ts"
export {
  findTorchPython,
  qwen3TorchReferenceScript,
  runTorchReference,
  torchPythonCandidates,
  torchReferenceScript,
  torchShapes,
  type TorchReferenceOptions,
  type TorchReferenceReport
} from "./torchReference.ts"
export {
  benchMatMuls,
  measureSgemmPeak,
  runBlasBench,
  transformerMatMuls,
  type BlasBenchReport,
  type MatMulCase,
  type MatMulTiming,
  type TransformerDims
} from "./benchmark.ts"
