/**
 * `/proc/<pid>/mountinfo`: which filesystem (type, superblock device,
 * options) each mount is. procmap needs it where the maps' device numbers
 * must be matched to a filesystem (huge page sizes, btrfs devices).
 * @module
 */

/** One mount. */
export interface Mount {
  /** Mount ID (the first column; statx reports the same as stx_mnt_id). */
  id: bigint;
  /** The superblock's device: what /proc/<pid>/maps shows for its files. */
  devMajor: number;
  devMinor: number;
  /** Filesystem type, e.g. "ext4", "hugetlbfs". */
  fsType: string;
  /** Superblock options, e.g. "rw,pagesize=2M". */
  superOptions: string;
}

/**
 * Parses mountinfo text: `id parent major:minor root mountpoint options
 * [optional fields...] - fstype source superoptions`. Lines that do not
 * have that shape are skipped.
 */
export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    const sep = f.indexOf("-", 6);
    if (sep < 0 || !/^\d+$/.test(f[0])) continue;
    const dev = /^(\d+):(\d+)$/.exec(f[2]);
    if (!dev) continue;
    mounts.push({
      id: BigInt(f[0]),
      devMajor: Number(dev[1]),
      devMinor: Number(dev[2]),
      fsType: f[sep + 1] ?? "",
      superOptions: f[sep + 3] ?? "",
    });
  }
  return mounts;
}
