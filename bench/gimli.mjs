// Builds bench/gimli/main.rs against gimli's addr2line crate from Debian's
// crate packages (apt-get install librust-addr2line-dev), offline, in
// bench/out/gimli (ignored by git: neither the crates' code nor the build
// outputs are kept in the repository). Returns the binary's path, or a
// sentence saying why there is none.
//
//   node bench/gimli.mjs        builds (or finds) it and prints its path
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const benchDir = dirname(fileURLToPath(import.meta.url));
const REGISTRY = "/usr/share/cargo/registry";

const CARGO_TOML = `[package]
name = "gimli-addr2line-bench"
version = "0.0.0"
edition = "2021"

[dependencies]
addr2line = "0.19"
object = { version = "0.30", default-features = false, features = ["read", "compression"] }
libc = "0.2"

[profile.release]
debug = false
`;

const CARGO_CONFIG = `[source.crates-io]
replace-with = "debian"
[source.debian]
directory = "${REGISTRY}"
`;

/** The driver's path once built, or `{ why }`. */
export function buildGimli(outDir = join(benchDir, "out")) {
  const dir = join(outDir, "gimli");
  const exe = join(dir, "target", "release", "gimli-addr2line-bench");
  const src = readFileSync(join(benchDir, "gimli", "main.rs"), "utf8");
  if (
    existsSync(exe) && existsSync(join(dir, "src", "main.rs")) &&
    readFileSync(join(dir, "src", "main.rs"), "utf8") === src
  ) {
    return { exe };
  }
  if (!existsSync(REGISTRY) || !readdirSync(REGISTRY).some((d) => d.startsWith("addr2line-"))) {
    return { why: `gimli's addr2line is not installed (apt-get install librust-addr2line-dev puts it in ${REGISTRY})` };
  }
  if (spawnSync("cargo", ["--version"]).status !== 0) return { why: "cargo is not installed" };
  mkdirSync(join(dir, "src"), { recursive: true });
  mkdirSync(join(dir, ".cargo"), { recursive: true });
  writeFileSync(join(dir, "Cargo.toml"), CARGO_TOML);
  writeFileSync(join(dir, ".cargo", "config.toml"), CARGO_CONFIG);
  copyFileSync(join(benchDir, "gimli", "main.rs"), join(dir, "src", "main.rs"));
  const r = spawnSync("cargo", ["build", "--release", "--offline", "--quiet"], { cwd: dir, encoding: "utf8" });
  if (r.status !== 0) {
    return { why: `cargo build of gimli's addr2line failed: ${(r.stderr || String(r.error)).slice(-400)}` };
  }
  return existsSync(exe) ? { exe } : { why: "cargo built no binary" };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = buildGimli();
  console.log(r.exe ?? r.why);
  process.exitCode = r.exe ? 0 : 1;
}
