import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { ByteTokenizer, encodePrompt } from "../src/index.ts"

const tok = new ByteTokenizer()

describe("ByteTokenizer", () => {
  test("decode(encode(s)) === s for every well-formed string", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme" }), (s) => tok.decode(tok.encode(s)) === s))
  })

  test("encode yields byte ids only (0-255), one per UTF-8 byte", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (s) => {
        const ids = tok.encode(s)
        return ids.length === new TextEncoder().encode(s).length && ids.every((id) => id >= 0 && id < 256)
      }),
    )
  })

  test("special tokens are distinct, inside the vocabulary, and dropped by decode", () => {
    const specials = [tok.padId, tok.bosId, tok.eosId]
    expect(new Set(specials).size).toBe(3)
    for (const id of specials) expect(id).toBeGreaterThanOrEqual(256)
    for (const id of specials) expect(id).toBeLessThan(tok.vocabSize)
    expect(tok.decode([tok.bosId, ...tok.encode("ok"), tok.eosId, tok.padId])).toBe("ok")
  })

  test("encodePrompt prepends beginning-of-sequence", () => {
    expect(encodePrompt(tok, "Hi")).toEqual([tok.bosId, 72, 105])
  })
})
