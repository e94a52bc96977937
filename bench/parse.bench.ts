/**
 * Case 3: parsing a saved maps text, no system calls: procmap's parser
 * (columns only, then also materialising every Vma with its name; each
 * parse into the previous one's table, as the text backend's snapshots are) vs the
 * idiomatic baseline (string split + regex + BigInt; it gets the text already
 * decoded as a string, which favours it); and bench/ref.c's parser in this
 * process, interleaved with them. Cost per line.
 * @module
 */
import { readFileSync } from "node:fs";
import { parseMaps } from "../src/text/parser.ts";
import { NameCache } from "../src/util/names.ts";
import { parseMapsBaseline } from "./baseline_parser.ts";
import { check, loadConfig, sink, Suite } from "./lib.ts";

const PAGE_SIZE = 4096;

const suite = new Suite("parse", loadConfig());
for (const target of suite.config.targets) {
  // A plain Uint8Array (not a Buffer), as procmap's own reads produce.
  const bytes = new Uint8Array(readFileSync(target.mapsFile));
  const text = new TextDecoder().decode(bytes);
  const lines = parseMapsBaseline(text).length;
  // Each parse reuses the table before it, as the text backend does between
  // snapshots (and as the C parser keeps its row array).
  const names = new NameCache();
  let spare = parseMaps(bytes, bytes.length, PAGE_SIZE, "self", names);
  check(spare.count === lines, "both parsers see the same lines");
  await suite.measure("parse", target, [
    {
      name: "procmap",
      ops: lines,
      fn: () => sink((spare = parseMaps(bytes, bytes.length, PAGE_SIZE, "self", names, spare)).count),
    },
    {
      name: "procmap + Vma objects",
      ops: lines,
      fn: () => {
        const t = spare = parseMaps(bytes, bytes.length, PAGE_SIZE, "self", names, spare);
        let n = 0;
        for (let i = 0; i < t.count; i++) n += t.vma(i, true, undefined).name!.length;
        sink(n);
      },
    },
    { name: "baseline", ops: lines, fn: () => sink(parseMapsBaseline(text).length) },
    suite.cTask("parse", -1, bytes, lines),
  ]);
}
suite.finish();
