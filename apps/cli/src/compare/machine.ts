import { cpus, platform, release, totalmem } from "node:os"

/** The machine a comparison ran on, as the report states it. */
export interface MachineInfo {
  readonly cpuModel: string
  readonly cores: number
  readonly memoryGiB: number
  readonly os: string
  readonly runtime: string
}

/**
 * Describes this machine (CPU model and logical cores, memory, OS, Bun version).
 *
 * @example
 * machineInfo().cores // 2
 */
export const machineInfo = (): MachineInfo => {
  const list = cpus()
  return {
    cpuModel: list[0]?.model.trim() ?? "unknown CPU",
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()}`,
    runtime: `Bun ${Bun.version}`,
  }
}

/**
 * The machine in one line.
 *
 * @example
 * machineLine(machineInfo()) // "AMD EPYC, 2 cores, 23.5 GiB, linux 6.1.0, Bun 1.4.5"
 */
export const machineLine = (m: MachineInfo): string => `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, ${m.runtime}`

/**
 * The distinct backends `train` children reported ("backend: ..." lines) in a log text.
 *
 * @example
 * backendsOf("backend: wasm (SIMD)\nenv: math") // ["wasm (SIMD)"]
 */
export const backendsOf = (log: string): Array<string> => [...new Set([...log.matchAll(/^backend: (.+)$/gm)].map((m) => m[1]!.trim()))]
