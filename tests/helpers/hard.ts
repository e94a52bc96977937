/** Pieces the hardening tests share: the hard_target child, scratch filesystems, ELF files with build IDs. */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileC, startChild, type Started } from "./child.ts";
import { counting, gnuBuildIdNote, simpleElf } from "./elf_files.ts";
import { isRoot } from "./runtime.ts";

export const hardBin: string = compileC("hard_target", ["-ldl"]);

/** A fixed address far from anything a small C program maps. */
export const FIXED_ADDR = 0x3f0000000000n;

export interface MapInfo {
  pid: number;
  start: string;
  end: string;
  error?: string;
  errno?: number;
}

export interface MapChild extends Started<MapInfo> {
  /** Sends one command line and waits for the child's next output line (JSON). */
  send(cmd: string): Promise<Record<string, unknown>>;
}

/** Starts `hard_target map file addr [--pid N]`. */
export async function startMap(file: string, addr = FIXED_ADDR, pid?: number): Promise<MapChild> {
  const args = ["map", file, addr.toString(16), ...(pid === undefined ? [] : ["--pid", String(pid)])];
  const c = await startChild<MapInfo>(hardBin, args);
  if (c.info.error) throw new Error(`hard_target map: ${c.info.error} errno ${c.info.errno}`);
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buf = "";
  c.child.stdout!.on("data", (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiting.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  return {
    ...c,
    send(cmd: string) {
      c.child.stdin!.write(cmd + "\n");
      const next = lines.shift();
      if (next !== undefined) return Promise.resolve(JSON.parse(next));
      // Deno's event loop does not wait for a child's pipe by itself: keep it
      // alive until the answer comes (not a timeout: nothing is timed).
      const keepAlive = setInterval(() => {}, 1000);
      return new Promise((resolve) =>
        waiting.push((line) => {
          clearInterval(keepAlive);
          resolve(JSON.parse(line));
        })
      );
    },
    async stop() {
      const keepAlive = setInterval(() => {}, 1000);
      try {
        await c.stop();
      } finally {
        clearInterval(keepAlive);
      }
    },
  };
}

/** SIGKILLs a child and waits until it has been reaped. */
export async function killAndReap(c: Started<unknown>): Promise<void> {
  const exited = new Promise<void>((resolve) => c.child.once("exit", () => resolve()));
  c.child.kill("SIGKILL");
  await exited;
}

/** An ELF file (with a PT_LOAD and a GNU build-ID note) whose build ID is 20 bytes counting from `first`. */
export function elfWithBuildId(first: number, size = 4096): { bytes: Uint8Array; buildId: string } {
  const desc = counting(20, first);
  return {
    bytes: simpleElf({ notes: gnuBuildIdNote(desc), size }),
    buildId: Array.from(desc, (b) => b.toString(16).padStart(2, "0")).join(""),
  };
}

/** A scratch filesystem mounted at a new directory; `remove()` unmounts it. */
export interface Scratch {
  dir: string;
  remove(): void;
}

/** Why scratch filesystems cannot be mounted here, or false. */
export const MOUNT_SKIP: string | false = !isRoot ? "needs root to mount scratch filesystems" : false;

/** Mounts a fresh tmpfs (its inode numbers start over: the first file is inode 2 on every one). */
export function mountTmpfs(): Scratch {
  const dir = mkdtempSync(join(tmpdir(), "procmap-tmpfs-"));
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=16m", "none", dir], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`mount tmpfs: ${r.stderr}`);
  return { dir, remove: () => unmount(dir) };
}

/** Mounts a fresh ext4 file system from a loop device (ext4 reuses a freed inode's number). */
export function mountExt4(): Scratch | string {
  const base = mkdtempSync(join(tmpdir(), "procmap-ext4-"));
  const img = join(base, "fs.img");
  const dir = join(base, "mnt");
  mkdirSync(dir);
  writeFileSync(img, new Uint8Array(0));
  spawnSync("truncate", ["-s", "8M", img]);
  const mk = spawnSync("mkfs.ext4", ["-q", "-F", img], { encoding: "utf8" });
  if (mk.status !== 0) return `mkfs.ext4 failed: ${mk.stderr || mk.error}`;
  const m = spawnSync("mount", ["-o", "loop", img, dir], { encoding: "utf8" });
  if (m.status !== 0) return `mount -o loop failed: ${m.stderr}`;
  return {
    dir,
    remove() {
      unmount(dir);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

function unmount(dir: string): void {
  spawnSync("umount", ["-l", dir]);
  rmSync(dir, { recursive: true, force: true });
}
