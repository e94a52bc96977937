// The run's charts: bench/chart.svg (walk cost per VMA) and crossover.svg (point queries vs
// snapshots per batch), hand-written SVG from the data bench/run.mjs collects.
import { cBest, fmtNs, jsResult, RUNTIME_LABEL, STAT } from "./report_util.mjs";

/** Hand-written SVG: cost per VMA of a full walk vs number of VMAs (log x). */
export function renderChart(data) {
  const W = 720, H = 420, L = 70, R = 170, T = 40, B = 50;
  const targets = data.config.targets;
  const series = [
    { label: "C ioctl", color: "#444", dash: "", pts: targets.map((t) => [t.vmas, cMean(data, t.size, "walk-ioctl")]) },
    {
      label: "C text",
      color: "#444",
      dash: "6 4",
      pts: targets.map((t) => [t.vmas, cMean(data, t.size, "walk-text")]),
    },
  ];
  const colors = { deno: "#1f77b4", bun: "#d62728", node26: "#2ca02c" };
  for (const rt of data.runtimes) {
    for (const [task, dash] of [["ioctl", ""], ["text", "6 4"]]) {
      series.push({
        label: `${RUNTIME_LABEL[rt]} ${task}`,
        color: colors[rt],
        dash,
        pts: targets.map((t) => [t.vmas, jsResult(data, rt, "walk", "walk", t.size, task)?.[STAT]]),
      });
    }
  }
  for (const s of series) s.pts = s.pts.filter(([, y]) => y !== undefined && Number.isFinite(y));
  const xs = targets.map((t) => t.vmas);
  const ys = series.flatMap((s) => s.pts.map(([, y]) => y));
  const xMin = Math.log10(Math.min(...xs)), xMax = Math.log10(Math.max(...xs));
  const yMax = niceCeil(Math.max(1, ...ys) * 1.05);
  const px = (x) => L + ((Math.log10(x) - xMin) / (xMax - xMin || 1)) * (W - L - R);
  const py = (y) => H - B - (y / yMax) * (H - T - B);
  const parts = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(
    `<text x="${L}" y="22" font-size="14" font-weight="bold">Full walk: cost per VMA vs number of VMAs${
      data.quick ? " (quick run)" : ""
    }</text>`,
  );
  // y grid and labels
  yGrid(parts, Array.from({ length: 6 }, (_, i) => (yMax * i) / 5), py, L, W - R);
  // x ticks at the measured sizes
  xTicks(parts, xs, px, T, H - B);
  parts.push(
    `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">VMAs in the target process (log scale)</text>`,
  );
  parts.push(`<text transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">time per VMA</text>`);
  parts.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#888"/>`);
  drawSeries(parts, series, { px, py, legendX: W - R, legendY: T, step: 20, dots: true });
  parts.push(`</svg>`);
  return parts.join("\n") + "\n";
}

/** Each series as a line (and dots), with its legend entry at (legendX, legendY + i * step). */
function drawSeries(parts, series, { px, py, legendX, legendY, step, dots }) {
  series.forEach((s, i) => {
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : "";
    if (s.pts.length) {
      const d = s.pts.map(([x, y], j) => `${j ? "L" : "M"}${px(x).toFixed(1)} ${py(y).toFixed(1)}`).join(" ");
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
      if (dots) {
        for (const [x, y] of s.pts) {
          parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
        }
      }
    }
    const ly = legendY + 10 + i * step;
    parts.push(
      `<line x1="${legendX + 12}" x2="${
        legendX + 42
      }" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`,
    );
    parts.push(`<text x="${legendX + 48}" y="${ly + 4}">${escapeXml(s.label)}</text>`);
  });
}

/** Where the crossover chart goes, next to the walk chart. */
export function crossoverPath(chartPath) {
  return chartPath.replace(/chart(\.quick)?\.svg$/, "crossover$1.svg");
}

/**
 * The point-query vs snapshot chart from case 4: total time per batch
 * against addresses per batch (both log scales), per runtime.
 */
export function renderCrossover(data) {
  const W = 800, H = 420, L = 80, R = 250, T = 40, B = 50;
  const counts = data.config.resolve.samples.map((s) => s.count);
  const colors = { deno: "#1f77b4", bun: "#d62728", node26: "#2ca02c" };
  const tasks = [
    ["query() per address", ""],
    ["text re-read", "6 4"],
    ["ioctl table() + find()", "2 3"],
    ["resolve auto", "10 3 2 3"],
  ];
  const series = [];
  for (const rt of data.runtimes) {
    if (!data.js[rt]?.resolve) continue;
    for (const [task, dash] of tasks) {
      series.push({
        label: `${RUNTIME_LABEL[rt]} ${task}`,
        color: colors[rt],
        dash,
        pts: counts.map((k) => [k, jsResult(data, rt, "resolve", "resolve", k, task)?.[STAT] * k]),
      });
    }
  }
  for (const s of series) s.pts = s.pts.filter(([, y]) => y !== undefined && Number.isFinite(y) && y > 0);
  const ys = series.flatMap((s) => s.pts.map(([, y]) => y));
  if (!ys.length) return undefined;
  const xMin = Math.log10(Math.min(...counts)), xMax = Math.log10(Math.max(...counts));
  const yMin = Math.floor(Math.log10(Math.min(...ys))), yMax = Math.ceil(Math.log10(Math.max(...ys)));
  const px = (x) => L + ((Math.log10(x) - xMin) / (xMax - xMin || 1)) * (W - L - R);
  const py = (y) => H - B - ((Math.log10(y) - yMin) / (yMax - yMin || 1)) * (H - T - B);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="22" font-size="14" font-weight="bold">Batch of sampled addresses over ${data.config.resolve.target.vmas} VMAs: time per batch${
      data.quick ? " (quick run)" : ""
    }</text>`,
  ];
  yGrid(parts, Array.from({ length: yMax - yMin + 1 }, (_, k) => 10 ** (yMin + k)), py, L, W - R);
  xTicks(parts, counts, px, T, H - B);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">addresses per batch (log scale)</text>`);
  parts.push(
    `<text transform="translate(16 ${
      (T + H - B) / 2
    }) rotate(-90)" text-anchor="middle">time per batch (log scale)</text>`,
  );
  parts.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#888"/>`);
  drawSeries(parts, series, { px, py, legendX: W - R, legendY: T, step: 18, dots: false });
  parts.push(`</svg>`);
  return parts.join("\n") + "\n";
}

/** `s` as SVG text content. */
const escapeXml = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;");

/** A grid line from `left` to `right` and a time label at each of `ys`. */
function yGrid(parts, ys, py, left, right) {
  for (const y of ys) {
    parts.push(`<line x1="${left}" x2="${right}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end">${escapeXml(fmtNs(y))}</text>`);
  }
}

/** A tick, a grid line from `top` to `bottom` and a label below it, at each of `xs`. */
function xTicks(parts, xs, px, top, bottom) {
  for (const x of xs) {
    parts.push(`<line x1="${px(x).toFixed(1)}" x2="${px(x).toFixed(1)}" y1="${top}" y2="${bottom}" stroke="#eee"/>`);
    parts.push(
      `<text x="${px(x).toFixed(1)}" y="${bottom + 16}" text-anchor="middle">${x.toLocaleString("en-US")}</text>`,
    );
  }
}

/** The mean of the C measurements of `mode` (one per runtime), or undefined. */
function cMean(data, size, mode) {
  const v = data.runtimes.map((r) => cBest(data, r, size, mode)).filter((x) => x !== undefined);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : undefined;
}

/** A round axis maximum at or above v (1, 2, 2.5 or 5 times a power of ten). */
function niceCeil(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
