/**
 * Privilege: procmap reads only what the kernel lets the caller read.
 * - An unprivileged user gets EACCES for another user's process (ioctl and
 *   text), and for its own process once that is not dumpable.
 * - Build IDs in the text backend come only from the mapped file itself:
 *   /proc/<pid>/map_files (privileged), else a path whose device and inode
 *   are the VMA's. A file the caller may not read gives no build ID, and a
 *   different file put at the path (or at "<path> (deleted)") is never used.
 * - A handle opened as root and used after dropping to nobody behaves as the
 *   kernel allows: access is checked at open only.
 * Needs root (it drops to uid 65534); skipped otherwise.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { ProcMaps } from "../mod.ts";
import { compileC, startChild, type Started } from "./helpers/child.ts";
import { noteBuildId } from "./helpers/elf_notes.ts";
import { isRoot, runAsNobody, runtimeCommand, SETPRIV_NOBODY } from "./helpers/runtime.ts";
import { BACKENDS } from "./helpers/backends.ts";

const skip = isRoot ? false : "needs root to drop privileges to nobody";
const FIXTURE = "tests/fixtures/privilege_drop.ts";
const HAVE_IOCTL = BACKENDS.includes("ioctl");
/** What each backend answers when the open is refused. */
const REFUSED = Object.fromEntries(BACKENDS.map((b) => [b, { code: "EACCES" }]));

interface Hold {
  pid: number;
  mark: { start: string; end: string };
  files: { start: string; end: string; path: string }[];
}
type Answer = { start: string; end: string; name?: string; buildId: string | null } | null | { code: string };
interface HandleReport {
  answers: Answer[];
  walk: number | { code: string };
}
interface Report {
  status: { uid: string; gid: string; groups: string; capEff: string };
  handles: Record<string, HandleReport | { code: string }>;
  reopen?: string | { code: string };
}

let dir: string;
/** Build IDs (hex) of the ELF files used: originals and the impostor. */
const ids: Record<string, string> = {};
/** Paths the nobody-owned child maps: world-readable, made secret later, replaced later. */
let paths: { open: string; secret: string; replaced: string; fifo: string };
let asNobody: Started<Hold>;
let asRoot: Started<Hold>;

/** Starts `churn --hold` as nobody (setpriv execs it, so the pid is the child's). */
function holdAsNobody(args: string[]): Promise<Started<Hold>> {
  return startChild<Hold>(SETPRIV_NOBODY[0], [...SETPRIV_NOBODY.slice(1), compileC("churn"), "--hold", ...args]);
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync("/tmp/procmap-priv-");
  chmodSync(dir, 0o755);
  // Three ELF files with different build IDs (compiled test fixtures).
  const elf = { a: compileC("zombie"), b: compileC("anon_name_probe"), impostor: compileC("mapper") };
  for (const [k, p] of Object.entries(elf)) {
    const id = noteBuildId(p);
    if (!id) throw new Error(`${p} has no build ID note (gcc without --build-id?)`);
    ids[k] = id;
  }
  paths = {
    open: join(dir, "open.so"),
    secret: join(dir, "secret.so"),
    replaced: join(dir, "replaced.so"),
    fifo: join(dir, "fifo.so"),
  };
  copyFileSync(elf.a, paths.open);
  copyFileSync(elf.a, paths.secret);
  copyFileSync(elf.b, paths.replaced);
  copyFileSync(elf.b, paths.fifo);
  for (const p of Object.values(paths)) chmodSync(p, 0o644);

  asNobody = await holdAsNobody([
    "--map",
    paths.open,
    "--map",
    paths.secret,
    "--map",
    paths.replaced,
    "--map",
    paths.fifo,
  ]);
  asRoot = await startChild<Hold>(compileC("churn"), ["--hold", "--map", paths.secret, "--map", paths.open]);

  // After mapping: the secret file becomes root-only, the replaced one is
  // deleted and an impostor put both at its path and at "<path> (deleted)".
  chmodSync(paths.secret, 0o600);
  unlinkSync(paths.replaced);
  copyFileSync(elf.impostor, paths.replaced);
  copyFileSync(elf.impostor, `${paths.replaced} (deleted)`);
  chmodSync(paths.replaced, 0o644);
  chmodSync(`${paths.replaced} (deleted)`, 0o644);
  // A FIFO where the deleted file's name points: opening it for reading
  // blocks until a writer comes, which must never happen to a reader.
  unlinkSync(paths.fifo);
  for (const p of [paths.fifo, `${paths.fifo} (deleted)`]) {
    const r = spawnSync("mkfifo", ["-m", "666", p]);
    if (r.status !== 0) throw new Error(`mkfifo ${p} failed`);
  }
});

after(async () => {
  if (skip) return;
  await asNobody?.stop();
  await asRoot?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function handle(r: Report, name: string): HandleReport {
  const h = r.handles[name];
  assert.ok(h && "answers" in h, `${name}: ${JSON.stringify(h)}`);
  return h;
}

function answer(a: Answer): { start: string; end: string; name?: string; buildId: string | null } {
  assert.ok(a && "start" in a, `expected a VMA, got ${JSON.stringify(a)}`);
  return a;
}

test("unprivileged: another user's process gives EACCES with each backend", { skip }, () => {
  const r = runAsNobody(FIXTURE, ["query", String(asRoot.pid), asRoot.info.mark.start]) as Report;
  assert.match(r.status.uid, /^65534\b/);
  assert.deepEqual(r.handles, REFUSED);
});

test("unprivileged: its own process reads fine while dumpable, and gives EACCES once not", { skip }, async () => {
  const mine = await holdAsNobody([]);
  const secret = await holdAsNobody(["--nondumpable"]);
  try {
    const ok = runAsNobody(FIXTURE, ["query", String(mine.pid), mine.info.mark.start]) as Report;
    for (const b of BACKENDS) {
      assert.equal(answer(handle(ok, b).answers[0]).end, mine.info.mark.end, b);
    }
    const refused = runAsNobody(FIXTURE, ["query", String(secret.pid), secret.info.mark.start]) as Report;
    assert.deepEqual(refused.handles, REFUSED);
  } finally {
    await mine.stop();
    await secret.stop();
  }
});

test("unprivileged: text build IDs come only from the mapped file, never from an impostor or an unreadable file", {
  skip,
}, () => {
  const [open, secret, replaced] = asNobody.info.files;
  const r = runAsNobody(FIXTURE, ["query", String(asNobody.pid), open.start, secret.start, replaced.start]) as Report;
  // The kernel reads the mapped files themselves, whatever their mode or name now.
  if (HAVE_IOCTL) {
    const ioctl = handle(r, "ioctl").answers.map(answer);
    assert.deepEqual(ioctl.map((a) => a.buildId), [ids.a, ids.a, ids.b]);
    assert.equal(ioctl[2].name, `${paths.replaced} (deleted)`);
  }
  // Without map_files: the world-readable file by path (same device and inode);
  // nothing for the file nobody may read; nothing from either impostor.
  const text = handle(r, "text").answers.map(answer);
  assert.equal(text[2].name, `${paths.replaced} (deleted)`);
  assert.equal(text[0].buildId, ids.a, "readable file, found by path");
  assert.equal(text[1].buildId, null, "a root-only file gives no build ID (and no error)");
  assert.equal(text[2].buildId, null, "the file at the path is not the mapped one");
  assert.notEqual(text[2].buildId, ids.impostor);
});

test("unprivileged: a FIFO at the name of a deleted mapped file does not block the text backend", { skip }, () => {
  runAsNobody(FIXTURE, ["query", String(asNobody.pid), asNobody.info.mark.start]); // warm: compile caches
  const fifo = asNobody.info.files[3];
  const r = runAsNobody(FIXTURE, ["query", String(asNobody.pid), fifo.start], 20_000) as Report;
  if (HAVE_IOCTL) assert.equal(answer(handle(r, "ioctl").answers[0]).buildId, ids.b);
  assert.equal(answer(handle(r, "text").answers[0]).buildId, null);
});

test("root: text build IDs through map_files reach deleted and unreadable files", { skip }, () => {
  const [open, secret, replaced, fifo] = asNobody.info.files;
  for (const backend of BACKENDS) {
    using maps = ProcMaps.open(asNobody.pid, { backend });
    const got = [open, secret, replaced, fifo].map((f) => maps.query(BigInt(f.start), { buildId: true })?.buildId);
    assert.deepEqual(got, [ids.a, ids.a, ids.b, ids.b], backend);
  }
});

test("a handle opened as root and used after dropping to nobody works as the kernel allows", { skip }, () => {
  const [secret, open] = asRoot.info.files;
  // Deno guards process.setuid behind --allow-sys.
  const cmd = runtimeCommand(FIXTURE, ["drop", String(asRoot.pid), asRoot.info.mark.start, secret.start, open.start], [
    "--allow-sys",
  ]);
  const run = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const r = JSON.parse(run.stdout.trim().split("\n").pop()!) as Report;

  // Really dropped: ids, no groups, no capabilities, and a new open is refused.
  assert.equal(r.status.uid, "65534\t65534\t65534\t65534");
  assert.equal(r.status.gid, "65534\t65534\t65534\t65534");
  assert.equal(r.status.groups, "");
  assert.equal(r.status.capEff, "0000000000000000");
  assert.deepEqual(r.reopen, { code: "EACCES" });

  // Access was checked at open: every handle still reads the root process.
  for (const name of [...BACKENDS, "textUsed"]) {
    const h = handle(r, name);
    assert.equal(answer(h.answers[0]).end, asRoot.info.mark.end, `${name}: the mark`);
    assert.ok(typeof h.walk === "number" && h.walk > 5, `${name}: walk ${JSON.stringify(h.walk)}`);
  }
  // Build IDs: the kernel reads any mapped file; the text backend, now without
  // map_files or /proc/<pid>/root, only a file nobody may read by its path.
  if (HAVE_IOCTL) assert.deepEqual(handle(r, "ioctl").answers.slice(1).map((a) => answer(a).buildId), [ids.a, ids.a]);
  for (const name of ["text", "textUsed"]) {
    assert.deepEqual(handle(r, name).answers.slice(1).map((a) => answer(a).buildId), [null, ids.a], name);
  }
});
