/*
 * C reference for the procmap benchmarks: the same work as the JS suites,
 * done in plain C (gcc -O2), timed with clock_gettime(CLOCK_MONOTONIC).
 *
 *   ref MODE PID ADDRS_FILE MAPS_FILE BUDGET_MS
 *
 * MODE is one of
 *   point-noname   PROCMAP_QUERY for each address in ADDRS_FILE, no name
 *   point-name     ... with the name (256-byte buffer, as procmap's first one)
 *   point-buildid  ... with the name and the build ID
 *   walk-ioctl     every VMA by PROCMAP_QUERY (covering-or-next), with names
 *   walk-text      read /proc/PID/maps whole (pread on a kept-open fd) + parse,
 *                  then each row's start, end and name length read
 *   parse          parse MAPS_FILE (already in memory) only
 *   all            every mode above
 * or several modes separated by commas. Unused arguments may be "-".
 * ADDRS_FILE holds one hex address per line.
 *
 * A run is one pass (all addresses, one walk, one parse). Runs repeat, after
 * a warm-up, until BUDGET_MS has passed and at least MIN_RUNS were made. One
 * JSON line per mode: {"mode":..,"nsPerOp":median,"minNsPerOp":..,"runs":..,"opsPerRun":..}.
 * The parser is hand-written (no sscanf), like procmap's.
 *
 * Built with -shared -fPIC (bench/out/libref.so), the same code runs inside
 * a JS suite's process: ref_batch() does one batch, called through the
 * runtime's FFI between the JS batches, so C and JS are timed by the same
 * clock at the same moments (see ref_batch below).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* include/uapi/linux/fs.h (Linux 6.11); defined here so older headers build. */
struct pq {
  uint64_t size, query_flags, query_addr;
  uint64_t vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
  uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
  uint64_t vma_name_addr, build_id_addr;
};
_Static_assert(sizeof(struct pq) == 104, "struct procmap_query is 104 bytes");
#define PQ_REQUEST 0xC0686611UL
#define PQ_COVERING_OR_NEXT 0x10

#define MIN_RUNS 5
#define NAME_CAP 256

static void die(const char *what) {
  fprintf(stderr, "ref: %s: %s\n", what, strerror(errno));
  exit(1);
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ---- state shared by the modes ---- */
static int maps_fd = -1;
static uint64_t *addrs;
static long n_addrs;
static char name_buf[NAME_CAP];
static unsigned char build_id[32];
static volatile uint64_t sink; /* keeps results observable */

/* ---- hand-written maps parser ---- */
struct row {
  uint64_t start, end, offset, inode;
  uint32_t dev_major, dev_minor, flags, name_off, name_len;
};
static struct row *rows;
static long rows_cap;

static signed char hexval[256];
static void init_hex(void) {
  memset(hexval, -1, sizeof hexval);
  for (int i = 0; i < 10; i++) hexval['0' + i] = i;
  for (int i = 0; i < 6; i++) hexval['a' + i] = hexval['A' + i] = 10 + i;
}

static inline const char *hex(const char *p, const char *e, uint64_t *out) {
  uint64_t v = 0;
  const char *s = p;
  int d;
  while (p < e && (d = hexval[(unsigned char)*p]) >= 0) v = (v << 4) | d, p++;
  if (p == s) return NULL;
  *out = v;
  return p;
}

/* Parses text[0,len) into rows; returns the row count, -1 on a malformed line. */
static long parse(const char *text, long len) {
  const char *p = text, *e = text + len;
  long n = 0;
  while (p < e) {
    if (n == rows_cap) {
      rows_cap = rows_cap ? rows_cap * 2 : 1024;
      rows = realloc(rows, rows_cap * sizeof *rows);
      if (!rows) die("realloc");
    }
    struct row *r = &rows[n];
    uint64_t v;
    if (!(p = hex(p, e, &r->start)) || p >= e || *p++ != '-') return -1;
    if (!(p = hex(p, e, &r->end)) || p >= e || *p++ != ' ') return -1;
    if (e - p < 5) return -1;
    r->flags = (p[0] == 'r') | (p[1] == 'w') << 1 | (p[2] == 'x') << 2 | (p[3] == 's') << 3;
    p += 5;
    if (!(p = hex(p, e, &r->offset)) || p >= e || *p++ != ' ') return -1;
    if (!(p = hex(p, e, &v)) || p >= e || *p++ != ':') return -1;
    r->dev_major = (uint32_t)v;
    if (!(p = hex(p, e, &v)) || p >= e || *p++ != ' ') return -1;
    r->dev_minor = (uint32_t)v;
    v = 0;
    const char *s = p;
    while (p < e && (unsigned)(*p - '0') < 10) v = v * 10 + (*p++ - '0');
    if (p == s) return -1;
    r->inode = v;
    while (p < e && *p == ' ') p++;
    s = p;
    const char *nl = memchr(p, '\n', e - p);
    if (!nl) return -1;
    r->name_off = (uint32_t)(s - text);
    r->name_len = (uint32_t)(nl - s);
    p = nl + 1;
    n++;
  }
  return n;
}

/* ---- the measured operations; each returns the number of operations done ---- */

static long query_all(uint32_t name_size, uint32_t bid_size) {
  struct pq q;
  for (long i = 0; i < n_addrs; i++) {
    memset(&q, 0, sizeof q);
    q.size = sizeof q;
    q.query_addr = addrs[i];
    q.vma_name_size = name_size;
    q.vma_name_addr = name_size ? (uint64_t)(uintptr_t)name_buf : 0;
    q.build_id_size = bid_size;
    q.build_id_addr = bid_size ? (uint64_t)(uintptr_t)build_id : 0;
    if (ioctl(maps_fd, PQ_REQUEST, &q) != 0) die("ioctl(PROCMAP_QUERY)");
    sink += q.vma_start + q.vma_name_size + q.build_id_size;
  }
  return n_addrs;
}
static long op_point_noname(void) { return query_all(0, 0); }
static long op_point_name(void) { return query_all(NAME_CAP, 0); }
static long op_point_buildid(void) { return query_all(NAME_CAP, sizeof build_id); }

static long op_walk_ioctl(void) {
  struct pq q;
  uint64_t addr = 0;
  long n = 0;
  for (;;) {
    memset(&q, 0, sizeof q);
    q.size = sizeof q;
    q.query_flags = PQ_COVERING_OR_NEXT;
    q.query_addr = addr;
    q.vma_name_size = NAME_CAP;
    q.vma_name_addr = (uint64_t)(uintptr_t)name_buf;
    if (ioctl(maps_fd, PQ_REQUEST, &q) != 0) {
      if (errno == ENOENT) break;
      die("ioctl(PROCMAP_QUERY) walk");
    }
    sink += q.vma_start + q.vma_name_size;
    addr = q.vma_end;
    n++;
  }
  return n;
}

static char *text_buf;
static long text_cap;

static long op_walk_text(void) {
  long len = 0;
  for (;;) {
    if (text_cap - len < 4096) {
      text_cap = text_cap ? text_cap * 2 : 1 << 16;
      text_buf = realloc(text_buf, text_cap);
      if (!text_buf) die("realloc");
    }
    ssize_t n = pread(maps_fd, text_buf + len, text_cap - len, len);
    if (n < 0) die("pread maps");
    if (n == 0) break;
    len += n;
  }
  long n = parse(text_buf, len);
  if (n < 0) {
    fprintf(stderr, "ref: malformed maps text\n");
    exit(1);
  }
  /* What the JS walks read of every row: start, end and the name. */
  for (long i = 0; i < n; i++) sink += rows[i].end - rows[i].start + rows[i].name_len;
  return n;
}

static char *saved;
static long saved_len;

static long op_parse(void) {
  long n = parse(saved, saved_len);
  if (n < 0) {
    fprintf(stderr, "ref: malformed saved maps\n");
    exit(1);
  }
  sink += rows[n - 1].end;
  return n;
}

/*
 * In-process entry: one batch of modes[mode] on the open maps file `fd`.
 * For the point modes, `data` is the address of `n` query addresses
 * (uint64_t); for parse, of `n` bytes of maps text; the walks ignore both.
 * Returns the operations done, or -1 for an unknown mode.
 */
long ref_batch(int mode, int fd, uint64_t data, long n);

/* ---- timing ---- */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void measure(const char *mode, long (*op)(void), double budget_ms) {
  /* Warm-up: caches, page cache, branch predictors. */
  double t_end = now_ns() + budget_ms * 1e6 / 4;
  long ops = 0;
  do ops = op(); while (now_ns() < t_end);

  long cap = 1024, runs = 0;
  double *per_op = malloc(cap * sizeof *per_op);
  t_end = now_ns() + budget_ms * 1e6;
  while (runs < MIN_RUNS || now_ns() < t_end) {
    double t0 = now_ns();
    ops = op();
    double t1 = now_ns();
    if (runs == cap) per_op = realloc(per_op, (cap *= 2) * sizeof *per_op);
    per_op[runs++] = (t1 - t0) / ops;
  }
  qsort(per_op, runs, sizeof *per_op, cmp_double);
  double median = runs % 2 ? per_op[runs / 2] : (per_op[runs / 2 - 1] + per_op[runs / 2]) / 2;
  printf("{\"mode\":\"%s\",\"nsPerOp\":%.2f,\"minNsPerOp\":%.2f,\"runs\":%ld,\"opsPerRun\":%ld}\n",
         mode, median, per_op[0], runs, ops);
  fflush(stdout);
  free(per_op);
}

/* ---- set-up ---- */

static char *slurp(const char *path, long *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die(path);
  long cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (cap - n < 4096) buf = realloc(buf, cap *= 2);
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0) die(path);
    if (r == 0) break;
    n += r;
  }
  close(fd);
  *len = n;
  return buf;
}

static void load_addrs(const char *path) {
  long len;
  char *text = slurp(path, &len);
  long cap = 1024;
  addrs = malloc(cap * sizeof *addrs);
  const char *p = text, *e = text + len;
  while (p < e) {
    uint64_t v;
    if (p[0] == '0' && p + 1 < e && p[1] == 'x') p += 2;
    const char *q = hex(p, e, &v);
    if (!q) break;
    if (n_addrs == cap) addrs = realloc(addrs, (cap *= 2) * sizeof *addrs);
    addrs[n_addrs++] = v;
    p = q;
    while (p < e && (*p == '\n' || *p == ' ')) p++;
  }
  free(text);
  if (n_addrs == 0) {
    fprintf(stderr, "ref: no addresses in %s\n", path);
    exit(1);
  }
}

struct mode {
  const char *name;
  long (*op)(void);
  int needs_pid, needs_addrs, needs_maps;
};
static const struct mode modes[] = {
    {"point-noname", op_point_noname, 1, 1, 0},
    {"point-name", op_point_name, 1, 1, 0},
    {"point-buildid", op_point_buildid, 1, 1, 0},
    {"walk-ioctl", op_walk_ioctl, 1, 0, 0},
    {"walk-text", op_walk_text, 1, 0, 0},
    {"parse", op_parse, 0, 0, 1},
};
#define N_MODES (sizeof modes / sizeof modes[0])

long ref_batch(int mode, int fd, uint64_t data, long n) {
  if (mode < 0 || (size_t)mode >= N_MODES) return -1;
  if (!hexval['1']) init_hex();
  maps_fd = fd;
  if (modes[mode].needs_addrs) addrs = (uint64_t *)(uintptr_t)data, n_addrs = n;
  if (modes[mode].needs_maps) saved = (char *)(uintptr_t)data, saved_len = n;
  return modes[mode].op();
}

static int mode_known(const char *m) {
  for (size_t i = 0; i < N_MODES; i++)
    if (strcmp(m, modes[i].name) == 0) return 1;
  return 0;
}

/* Is `name` one of the comma-separated modes in `list`? */
static int listed(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
    if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == 0)) return 1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s MODE PID ADDRS_FILE MAPS_FILE BUDGET_MS\n", argv[0]);
    return 2;
  }
  const char *mode = argv[1], *pid = argv[2], *addrs_file = argv[3], *maps_file = argv[4];
  double budget = atof(argv[5]);
  int all = strcmp(mode, "all") == 0;
  if (!all) {
    /* Every listed mode must exist. */
    char *list = strdup(mode), *save = NULL;
    for (char *m = strtok_r(list, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
      if (!mode_known(m)) {
        fprintf(stderr, "ref: unknown mode %s\n", m);
        return 2;
      }
    }
    free(list);
  }
  init_hex();

  if (strcmp(pid, "-") != 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/maps", pid);
    maps_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (maps_fd < 0) die(path);
  }
  if (strcmp(addrs_file, "-") != 0) load_addrs(addrs_file);
  if (strcmp(maps_file, "-") != 0) saved = slurp(maps_file, &saved_len);

  for (size_t i = 0; i < N_MODES; i++) {
    if (!all && !listed(mode, modes[i].name)) continue;
    if ((modes[i].needs_pid && maps_fd < 0) || (modes[i].needs_addrs && !n_addrs) ||
        (modes[i].needs_maps && !saved)) {
      if (all) continue; /* "all" runs what the arguments allow */
      fprintf(stderr, "ref: mode %s needs its arguments\n", modes[i].name);
      return 2;
    }
    measure(modes[i].name, modes[i].op, budget);
  }
  return 0;
}
