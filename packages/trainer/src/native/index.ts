export { loadNativeKernels, type AdamwStep, type AttentionDims, type NativeKernels, type NativeKernelsLookup } from "./NativeKernels.ts"
export { nativeKernelStatus, registerNativeKernels, unregisterNativeKernels, type NativeRegistration } from "./registerNativeKernels.ts"
