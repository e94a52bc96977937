/**
 * Flag values for the {@link Libc} calls, the same on every architecture
 * procmap drives (x86_64, aarch64, riscv64: the generic Linux values;
 * `include/uapi/asm-generic/fcntl.h`, `include/uapi/linux/fcntl.h`,
 * `include/uapi/linux/openat2.h`).
 *
 * @module
 */

/** `O_RDONLY`: open for reading. */
export const O_RDONLY = 0;
/** `O_NOCTTY`: a terminal opened never becomes the controlling terminal. */
export const O_NOCTTY = 0o400;
/** `O_NONBLOCK`: open() of a FIFO does not wait for a writer. */
export const O_NONBLOCK = 0o4000;
/** `O_DIRECTORY`: fail with ENOTDIR unless the path is a directory. */
export const O_DIRECTORY = 0o200000;
/** `O_NOFOLLOW`: fail with ELOOP if the last path component is a symbolic link. */
export const O_NOFOLLOW = 0o400000;
/** `O_CLOEXEC`: the descriptor does not survive exec (always added by procmap's calls). */
export const O_CLOEXEC = 0o2000000;
/** `O_PATH`: a descriptor that only names a file (for *at calls and fstat), never reads it. */
export const O_PATH = 0o10000000;

/**
 * `O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY`, what `openRead` uses.
 * Build IDs are read from paths a traced process can influence: O_NONBLOCK
 * keeps a FIFO put there from blocking open() forever, O_NOCTTY keeps a
 * terminal from becoming ours. Neither changes reads of regular or /proc files.
 */
export const OPEN_READ = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;

/** `AT_FDCWD`: a *at call's path is relative to the working directory. */
export const AT_FDCWD = -100;
/** `AT_SYMLINK_NOFOLLOW`: statAt reports a symbolic link itself, not its target. */
export const AT_SYMLINK_NOFOLLOW = 0x100;
/** `AT_EMPTY_PATH`: with an empty path, statAt reports the descriptor itself. */
export const AT_EMPTY_PATH = 0x1000;

/** `RESOLVE_NO_MAGICLINKS`: refuse /proc magic links (`/proc/<pid>/root`, `fd/N`, `exe`) during openat2. */
export const RESOLVE_NO_MAGICLINKS = 0x02;
/** `RESOLVE_NO_SYMLINKS`: refuse every symbolic link during openat2 (ELOOP). */
export const RESOLVE_NO_SYMLINKS = 0x04;
/** `RESOLVE_BENEATH`: refuse to leave the directory `dirfd` names (EXDEV). */
export const RESOLVE_BENEATH = 0x08;
/** `RESOLVE_IN_ROOT`: resolve as if `dirfd` were the root directory (chroot-like, `..` and absolute links stay inside). */
export const RESOLVE_IN_ROOT = 0x10;

/** `SYS_openat2`: 437 on every architecture procmap drives (added in Linux 5.6). */
export const SYS_OPENAT2 = 437;
/** `sizeof(struct open_how)`: flags, mode and resolve, three u64s. */
export const OPEN_HOW_SIZE = 24;

/**
 * STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_UID | STATX_MTIME | STATX_CTIME | STATX_INO | STATX_SIZE |
 * STATX_MNT_ID (device numbers always come).
 */
export const STATX_MASK = 0x1 | 0x2 | 0x4 | 0x8 | 0x40 | 0x80 | 0x100 | 0x200 | 0x1000;
/** `STATX_MNT_ID` (Linux 5.8+): whether `stx_mnt_id` was filled in. */
export const STATX_MNT_ID = 0x1000;
/** `S_IFMT`: the file-type bits of a mode. */
export const S_IFMT = 0o170000;
/** `S_IFREG`: a regular file. */
export const S_IFREG = 0o100000;
/** `S_IFDIR`: a directory. */
export const S_IFDIR = 0o040000;
/** `S_IFLNK`: a symbolic link (an `O_PATH | O_NOFOLLOW` descriptor can name one). */
export const S_IFLNK = 0o120000;

/** `sizeof(struct statx)`, the same on every architecture. */
export const STATX_BUFFER_SIZE = 256;
