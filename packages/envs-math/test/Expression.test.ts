import { describe, expect, setDefaultTimeout, test } from "bun:test"
import fc from "fast-check"
import { Rational as Q, evaluate, parseExpression, renderExpression } from "../src/index.ts"
import type { Expr } from "../src/index.ts"

setDefaultTimeout(60_000)

const value = (text: string) => {
  const e = parseExpression(text)
  return e === undefined ? undefined : evaluate(e)
}

const tree: fc.Arbitrary<Expr> = fc.letrec<{ node: Expr }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.nat(999).map((n): Expr => ({ kind: "num", value: Q.fromInt(n), text: String(n) })),
    fc
      .tuple(fc.constantFrom("+", "-", "*", "/" as const), tie("node"), tie("node"))
      .map(([op, left, right]): Expr => ({ kind: "bin", op, left, right })),
  ),
})).node

describe("Expression", () => {
  test("evaluates with precedence, parentheses and exact division", () => {
    expect(value("(25-7)*3")).toEqual(Q.fromInt(54))
    expect(value("2+3*4")).toEqual(Q.fromInt(14))
    expect(value("1/3+1/6")).toEqual({ num: 1n, den: 2n })
    expect(value("8/2/2")).toEqual(Q.fromInt(2))
    expect(value("5-(-3)")).toEqual(Q.fromInt(8))
    expect(value("2 × 3 ÷ 4")).toEqual({ num: 3n, den: 2n })
    expect(value("1/0")).toBeUndefined()
  })

  test("rejects what is not an expression", () => {
    for (const bad of ["", "2+", "(2", "2)", "a+1", "constructor", "process.exit(1)", "2**3", "1e5", "--"]) {
      expect(parseExpression(bad)).toBeUndefined()
    }
    expect(parseExpression("-3", { unaryMinus: false })).toBeUndefined()
    expect(parseExpression("1.5", { decimals: false })).toBeUndefined()
    expect(parseExpression("1,000*2", { thousands: true }) === undefined).toBe(false)
  })

  test("bounds nesting depth, length and literal size without throwing", () => {
    expect(parseExpression("(".repeat(10_000) + "1" + ")".repeat(10_000))).toBeUndefined()
    expect(parseExpression("-".repeat(10_000) + "1")).toBeUndefined()
    expect(parseExpression("1+".repeat(5000) + "1")).toBeUndefined()
    expect(parseExpression("9".repeat(401))).toBeUndefined()
  })

  test("renders with only the parentheses it needs", () => {
    expect(renderExpression(parseExpression("((2+3))*4") as Expr)).toBe("(2+3)*4")
    expect(renderExpression(parseExpression("(2*3)+4") as Expr)).toBe("2*3+4")
    expect(renderExpression(parseExpression("2-(3-4)") as Expr)).toBe("2-(3-4)")
    expect(renderExpression(parseExpression("2-(3+4)") as Expr)).toBe("2-(3+4)")
    expect(renderExpression(parseExpression("8/(4/2)") as Expr)).toBe("8/(4/2)")
  })

  test("law: rendering then parsing preserves the value", () => {
    fc.assert(
      fc.property(tree, (t) => {
        const back = parseExpression(renderExpression(t))
        expect(back).toBeDefined()
        const a = evaluate(t)
        const b = evaluate(back as Expr)
        if (a === undefined) expect(b).toBeUndefined()
        else expect(b).toEqual(a)
      }),
      { numRuns: 1000 },
    )
  })

  test("law: parsing arbitrary text never throws", () => {
    fc.assert(fc.property(fc.string({ maxLength: 80 }), (s) => void parseExpression(s)), { numRuns: 2000 })
  })

  test("law: rational arithmetic is exact (a/b + c/d - c/d = a/b)", () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1 }), fc.integer(), fc.integer({ min: 1 }), (a, b, c, d) => {
        const x = Q.rational(BigInt(a), BigInt(b)) as Q.Rational
        const y = Q.rational(BigInt(c), BigInt(d)) as Q.Rational
        expect(Q.sub(Q.add(x, y), y)).toEqual(x)
        expect(Q.equals(Q.add(x, y), Q.add(y, x))).toBe(true)
      }),
    )
  })
})
