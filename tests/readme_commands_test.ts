/**
 * README's commands work as written: each line of every `sh` block that
 * follows a `<!-- runnable ... -->` comment is run from the repository's
 * root through bash, as a user pastes it, and must exit 0 and print
 * something (the commands themselves are compared with pmap, perf and
 * addr2line in procmap_cli_test.ts). Run once, under Node 20: `npx` starts
 * its own runtime whichever runs this test.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const root = new URL("../", import.meta.url).pathname.replace(/\/dist\/$/, "/");

/** The runnable blocks' lines. */
function runnableLines(readme: string): string[] {
  const out: string[] = [];
  const re = /<!-- runnable[^>]*-->\s*\n```sh\n([\s\S]*?)```/g;
  for (let m = re.exec(readme); m; m = re.exec(readme)) {
    for (const line of m[1].split("\n")) if (line.trim() !== "") out.push(line);
  }
  return out;
}

const onceUnder = "Deno" in globalThis || process.versions.bun !== undefined ||
    Number(process.versions.node.split(".")[0]) >= 26
  ? "run once, under Node 20 (npx starts its own runtime)"
  : false;

test("README's runnable commands exit 0 and print their output", { skip: onceUnder, timeout: 180_000 }, () => {
  const lines = runnableLines(readFileSync(root + "README.md", "utf8"));
  assert.ok(lines.length >= 3, `runnable lines found: ${lines.length}`);
  // npm's cache as on a fresh machine: npx keeps an install of this checkout per path in its cache and never
  // refreshes its bin link, so a machine that ran an older checkout at the same path (another bin file) would
  // run that stale file instead of what the README's reader gets.
  const cache = mkdtempSync(join(tmpdir(), "procmap-npm-cache-"));
  try {
    const env = { ...process.env, npm_config_cache: cache, npm_config_offline: "true" };
    for (const line of lines) {
      const r = spawnSync("bash", ["-c", line], { cwd: root, env, encoding: "utf8", timeout: 60_000 });
      assert.equal(r.status, 0, `${line}\n${r.stderr}`);
      assert.ok(r.stdout.trim().length > 0, `${line} printed nothing`);
    }
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});
