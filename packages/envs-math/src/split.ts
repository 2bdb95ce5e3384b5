import type { Split } from "@icrl/core"
import { hash32 } from "./random.ts"

/** The share of problems that belong to the test split unless an option says otherwise. */
export const DEFAULT_TEST_FRACTION = 0.1

/**
 * The split a problem belongs to, a pure function of its canonical text: train and test can
 * never share a problem.
 *
 * @example
 * splitOf("math:47+38") // "train" or "test", always the same
 */
export const splitOf = (canonical: string, testFraction: number = DEFAULT_TEST_FRACTION): Split =>
  hash32(canonical, 0x5eed) / 0x100000000 < testFraction ? "test" : "train"
