/**
 * A small SVG writer for line charts: one mean line per series with a shaded band (e.g. a 95%
 * interval over seeds), axes with round ticks, and a legend. The output is inline SVG text for a
 * self-contained HTML page (no scripts, fonts or external references).
 */

/** One point of a series: the mean and the band around it. */
export interface BandPoint {
  readonly x: number
  readonly mean: number
  readonly low: number
  readonly high: number
}

export interface ChartSeries {
  readonly name: string
  /** Any CSS color; defaults to the palette by series index. */
  readonly color?: string
  readonly points: ReadonlyArray<BandPoint>
}

export interface LineChartSpec {
  readonly title: string
  readonly xLabel: string
  readonly yLabel: string
  readonly series: ReadonlyArray<ChartSeries>
  readonly width?: number
  readonly height?: number
  /** How y tick labels are written (default: a short number). */
  readonly yFormat?: (value: number) => string
  /** How x tick labels are written (default: a short number with k/M suffixes). */
  readonly xFormat?: (value: number) => string
  /** Start the y axis at zero when all values are positive (default true). */
  readonly yFromZero?: boolean
}

/** Okabe–Ito colors: distinguishable with the common color-vision deficiencies. */
export const palette: ReadonlyArray<string> = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

/**
 * Escapes text for XML/HTML content and attribute values.
 *
 * @example
 * escapeXml(`a < b & "c"`) // "a &lt; b &amp; &quot;c&quot;"
 */
export const escapeXml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&#39;"))

/** Rounds a coordinate to two decimals (short output, sub-pixel exact enough). */
const coord = (v: number): string => {
  const r = Math.round(v * 100) / 100
  return Object.is(r, -0) ? "0" : String(r)
}

/**
 * Round tick values ("1, 2, 5 times a power of ten" steps) covering [min, max] with about `count`
 * ticks: the first tick is <= min, the last >= max, and the ticks are evenly spaced.
 *
 * @example
 * niceTicks(0, 0.93, 5) // [0, 0.2, 0.4, 0.6, 0.8, 1]
 */
export const niceTicks = (min: number, max: number, count = 5): ReadonlyArray<number> => {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1]
  let lo = Math.min(min, max)
  let hi = Math.max(min, max)
  if (hi - lo <= 1e-6 * Math.max(Math.abs(lo), Math.abs(hi)) || hi - lo < 1e-200) {
    // A flat range: [0, 1] at (about) zero, else 10% either side.
    if (Math.abs(lo) < 1e-12) {
      lo = 0
      hi = 1
    }
    else {
      const pad = Math.abs(lo) * 0.1
      lo -= pad
      hi += pad
    }
  }
  const raw = (hi - lo) / Math.max(1, count)
  const power = 10 ** Math.floor(Math.log10(raw))
  const fraction = raw / power
  const step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power
  const first = Math.floor(lo / step + 1e-9)
  const last = Math.ceil(hi / step - 1e-9)
  if (!(step > 0) || !Number.isFinite(first) || !Number.isFinite(last) || last - first > 1000) return [lo, hi]
  const ticks: Array<number> = []
  // Multiplying integers by the step (not accumulating) keeps values like 0.3 clean.
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toPrecision(15)))
  return ticks
}

/**
 * A short label for a number: k/M suffixes for large values, few decimals for small ones.
 *
 * @example
 * shortNumber(12500) // "12.5k"
 */
export const shortNumber = (v: number): string => {
  const a = Math.abs(v)
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`
  if (a >= 100 || Number.isInteger(v)) return String(Math.round(v))
  return String(Number(v.toPrecision(3)))
}

/** A linear map from a data interval onto a pixel interval. */
export const linearScale =
  (domain: readonly [number, number], range: readonly [number, number]) =>
  (v: number): number =>
    domain[1] === domain[0] ? (range[0] + range[1]) / 2 : range[0] + ((v - domain[0]) / (domain[1] - domain[0])) * (range[1] - range[0])

const finitePoint = (p: BandPoint): boolean => Number.isFinite(p.x) && Number.isFinite(p.mean)

/** Splits a series where a point is missing or not finite, so lines never bridge gaps. */
const segments = (points: ReadonlyArray<BandPoint>): Array<Array<BandPoint>> => {
  const out: Array<Array<BandPoint>> = []
  let current: Array<BandPoint> = []
  for (const p of [...points].sort((a, b) => a.x - b.x)) {
    if (finitePoint(p)) current.push(p)
    else if (current.length > 0) {
      out.push(current)
      current = []
    }
  }
  if (current.length > 0) out.push(current)
  return out
}

/**
 * An SVG line chart with a mean line and a shaded band per series, round axis ticks, grid lines,
 * axis labels and a legend. Non-finite points break a line instead of bridging it; a series of
 * one point is drawn as a dot.
 *
 * @example
 * lineChart({ title: "accuracy", xLabel: "step", yLabel: "accuracy",
 *   series: [{ name: "icrl", points: [{ x: 0, mean: 0.4, low: 0.35, high: 0.45 }] }] })
 */
export const lineChart = (spec: LineChartSpec): string => {
  const width = spec.width ?? 480
  const height = spec.height ?? 300
  const yFormat = spec.yFormat ?? shortNumber
  const xFormat = spec.xFormat ?? shortNumber
  const margin = { top: 34, right: 16, bottom: 62, left: 58 }
  const plot = { left: margin.left, right: width - margin.right, top: margin.top, bottom: height - margin.bottom }
  const all = spec.series.flatMap((s) => s.points.filter(finitePoint))
  const parts: Array<string> = []
  parts.push(
    `<svg class="chart" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(spec.title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${coord(width / 2)}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(spec.title)}</text>`,
  )
  if (all.length === 0) {
    parts.push(`<text x="${coord(width / 2)}" y="${coord(height / 2)}" text-anchor="middle" fill="#666666">no data</text>`, "</svg>")
    return parts.join("")
  }
  const xs = all.map((p) => p.x)
  const ys = all.flatMap((p) => [p.mean, ...(Number.isFinite(p.low) ? [p.low] : []), ...(Number.isFinite(p.high) ? [p.high] : [])])
  let yMin = Math.min(...ys)
  let yMax = Math.max(...ys)
  if ((spec.yFromZero ?? true) && yMin > 0) yMin = 0
  if ((spec.yFromZero ?? true) && yMax < 0) yMax = 0
  const xTicks = niceTicks(Math.min(...xs), Math.max(...xs), 6)
  const yTicks = niceTicks(yMin, yMax, 5)
  const xDomain = [xTicks[0]!, xTicks[xTicks.length - 1]!] as const
  const yDomain = [yTicks[0]!, yTicks[yTicks.length - 1]!] as const
  const sx = linearScale(xDomain, [plot.left, plot.right])
  const sy = linearScale(yDomain, [plot.bottom, plot.top])
  // Grid and ticks.
  for (const t of yTicks) {
    const y = coord(sy(t))
    parts.push(
      `<line x1="${plot.left}" y1="${y}" x2="${plot.right}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${plot.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(yFormat(t))}</text>`,
    )
  }
  for (const t of xTicks) {
    const x = coord(sx(t))
    parts.push(
      `<line x1="${x}" y1="${plot.top}" x2="${x}" y2="${plot.bottom}" stroke="#f0f0f0"/>`,
      `<text x="${x}" y="${plot.bottom + 15}" text-anchor="middle">${escapeXml(xFormat(t))}</text>`,
    )
  }
  parts.push(
    `<line x1="${plot.left}" y1="${plot.bottom}" x2="${plot.right}" y2="${plot.bottom}" stroke="#333333"/>`,
    `<line x1="${plot.left}" y1="${plot.top}" x2="${plot.left}" y2="${plot.bottom}" stroke="#333333"/>`,
    `<text x="${coord((plot.left + plot.right) / 2)}" y="${plot.bottom + 32}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`,
    `<text transform="translate(14 ${coord((plot.top + plot.bottom) / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`,
  )
  // Bands first, so every mean line is drawn on top of every band.
  spec.series.forEach((s, i) => {
    const color = s.color ?? palette[i % palette.length]!
    for (const seg of segments(s.points)) {
      const banded = seg.filter((p) => Number.isFinite(p.low) && Number.isFinite(p.high))
      if (banded.length < 2 || banded.every((p) => p.high - p.low <= 0)) continue
      const upper = banded.map((p) => `${coord(sx(p.x))} ${coord(sy(p.high))}`)
      const lower = [...banded].reverse().map((p) => `${coord(sx(p.x))} ${coord(sy(p.low))}`)
      parts.push(`<path class="band" d="M${[...upper, ...lower].join(" L")} Z" fill="${escapeXml(color)}" fill-opacity="0.18" stroke="none"/>`)
    }
  })
  spec.series.forEach((s, i) => {
    const color = escapeXml(s.color ?? palette[i % palette.length]!)
    for (const seg of segments(s.points)) {
      if (seg.length >= 2) {
        const d = seg.map((p, k) => `${k === 0 ? "M" : "L"}${coord(sx(p.x))} ${coord(sy(p.mean))}`).join(" ")
        parts.push(`<path class="line" d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`)
      }
      for (const p of seg) parts.push(`<circle cx="${coord(sx(p.x))}" cy="${coord(sy(p.mean))}" r="2.5" fill="${color}"/>`)
    }
  })
  // Legend below the x label, laid out left to right.
  let lx = plot.left
  const ly = height - 12
  spec.series.forEach((s, i) => {
    const color = escapeXml(s.color ?? palette[i % palette.length]!)
    parts.push(
      `<rect x="${coord(lx)}" y="${ly - 8}" width="14" height="8" fill="${color}" fill-opacity="0.35" stroke="${color}"/>`,
      `<text x="${coord(lx + 18)}" y="${ly}">${escapeXml(s.name)}</text>`,
    )
    lx += 30 + 6.5 * s.name.length
  })
  parts.push("</svg>")
  return parts.join("")
}
