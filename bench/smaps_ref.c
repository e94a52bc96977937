/*
 * C reference for bench/smaps.bench.ts: reading and parsing /proc/PID/smaps
 * in plain C (gcc -O2), timed with clock_gettime(CLOCK_MONOTONIC).
 *
 *   smaps_ref MODES PID BUDGET_MS
 *
 * MODES, comma-separated:
 *   smaps-read    pread the whole smaps text (kept-open fd): the kernel's share
 *   smaps-parse   the same read, then a hand-written parse of every line: the
 *                 maps line's columns and each field's value (kB times 1024)
 *                 stored by its name, VmFlags split into flags
 * One JSON line per mode: {"mode":..,"nsPerOp":median,"minNsPerOp":..,"runs":..,"opsPerRun":..},
 * per VMA, the same statistic as bench/ref.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MIN_RUNS 5

static void die(const char *what) {
  fprintf(stderr, "smaps_ref: %s: %s\n", what, strerror(errno));
  exit(1);
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static const char *FIELDS[] = {
    "Size",           "KernelPageSize", "MMUPageSize",   "Rss",           "Pss",          "Pss_Dirty",
    "Pss_Anon",       "Pss_File",       "Pss_Shmem",     "Shared_Clean",  "Shared_Dirty", "Private_Clean",
    "Private_Dirty",  "Referenced",     "Anonymous",     "KSM",           "LazyFree",     "AnonHugePages",
    "ShmemPmdMapped", "FilePmdMapped",  "Shared_Hugetlb", "Private_Hugetlb", "Swap",       "SwapPss",
    "Locked",         "THPeligible",    "ProtectionKey",
};
#define NFIELDS (sizeof FIELDS / sizeof FIELDS[0])
static size_t field_len[NFIELDS];

struct row {
  uint64_t start, end, offset, inode;
  uint32_t flags, dev_major, dev_minor, name_off, name_len;
  uint64_t value[NFIELDS];
  uint32_t present, vmflags;
  uint16_t flag[32];
};

static struct row *rows;
static long rows_cap;
static int smaps_fd = -1;
static char *text;
static long text_cap, text_len;
static volatile uint64_t sink;

static const char *hex(const char *p, const char *e, uint64_t *out) {
  uint64_t v = 0;
  const char *s = p;
  for (; p < e; p++) {
    unsigned c = (unsigned char)*p, d;
    if (c - '0' < 10) d = c - '0';
    else if ((c | 32) - 'a' < 6) d = (c | 32) - 'a' + 10;
    else break;
    v = v * 16 + d;
  }
  *out = v;
  return p == s ? NULL : p;
}

static int is_header(const char *p, const char *e) {
  const char *s = p;
  while (p < e && ((unsigned)(*p - '0') < 10 || (unsigned)((*p | 32) - 'a') < 6)) p++;
  return p > s && p < e && *p == '-';
}

static void read_all(void) {
  text_len = 0;
  for (;;) {
    if (text_cap - text_len < 4096) {
      text_cap = text_cap ? text_cap * 2 : 1 << 20;
      text = realloc(text, text_cap);
      if (!text) die("realloc");
    }
    ssize_t n = pread(smaps_fd, text + text_len, text_cap - text_len, text_len);
    if (n < 0) die("pread smaps");
    if (n == 0) break;
    text_len += n;
  }
}

static long count_headers(void) {
  long n = 0;
  const char *p = text, *e = text + text_len;
  while (p < e) {
    if (is_header(p, e)) n++;
    const char *nl = memchr(p, '\n', e - p);
    if (!nl) break;
    p = nl + 1;
  }
  return n;
}

static long op_read(void) {
  read_all();
  sink += text_len;
  return count_headers();
}

static void bad(void) {
  fprintf(stderr, "smaps_ref: malformed smaps text\n");
  exit(1);
}

static long op_parse(void) {
  read_all();
  const char *p = text, *e = text + text_len;
  long n = -1;
  struct row *r = NULL;
  size_t expect = 0;
  while (p < e) {
    if (is_header(p, e)) {
      if (++n == rows_cap) {
        rows_cap = rows_cap ? rows_cap * 2 : 1024;
        rows = realloc(rows, rows_cap * sizeof *rows);
        if (!rows) die("realloc");
      }
      r = &rows[n];
      r->present = 0;
      r->vmflags = 0;
      uint64_t v;
      if (!(p = hex(p, e, &r->start)) || p >= e || *p++ != '-') bad();
      if (!(p = hex(p, e, &r->end)) || p >= e || *p++ != ' ') bad();
      if (e - p < 5) bad();
      r->flags = (p[0] == 'r') | (p[1] == 'w') << 1 | (p[2] == 'x') << 2 | (p[3] == 's') << 3;
      p += 5;
      if (!(p = hex(p, e, &r->offset)) || p >= e || *p++ != ' ') bad();
      if (!(p = hex(p, e, &v)) || p >= e || *p++ != ':') bad();
      r->dev_major = (uint32_t)v;
      if (!(p = hex(p, e, &v)) || p >= e || *p++ != ' ') bad();
      r->dev_minor = (uint32_t)v;
      v = 0;
      const char *s = p;
      while (p < e && (unsigned)(*p - '0') < 10) v = v * 10 + (*p++ - '0');
      if (p == s) bad();
      r->inode = v;
      while (p < e && *p == ' ') p++;
      const char *nl = memchr(p, '\n', e - p);
      if (!nl) bad();
      r->name_off = (uint32_t)(p - text);
      r->name_len = (uint32_t)(nl - p);
      p = nl + 1;
      expect = 0;
      continue;
    }
    if (!r) bad();
    const char *colon = memchr(p, ':', e - p);
    const char *nl = memchr(p, '\n', e - p);
    if (!colon || !nl || colon > nl) bad();
    size_t len = colon - p;
    if (len == 7 && memcmp(p, "VmFlags", 7) == 0) {
      const char *q = colon + 1;
      while (q + 1 < nl) {
        while (q < nl && *q == ' ') q++;
        if (q + 1 >= nl) break;
        if (r->vmflags < 32) r->flag[r->vmflags++] = (uint16_t)(q[0] << 8 | q[1]);
        q += 2;
      }
      p = nl + 1;
      continue;
    }
    /* The expected next field first, else a search (fields absent on this kernel). */
    size_t k = expect;
    if (!(k < NFIELDS && field_len[k] == len && memcmp(p, FIELDS[k], len) == 0)) {
      for (k = 0; k < NFIELDS; k++)
        if (field_len[k] == len && memcmp(p, FIELDS[k], len) == 0) break;
    }
    const char *q = colon + 1;
    while (q < nl && *q == ' ') q++;
    uint64_t v = 0;
    const char *s = q;
    while (q < nl && (unsigned)(*q - '0') < 10) v = v * 10 + (*q++ - '0');
    if (q == s) bad();
    if (q < nl && nl - q == 3 && q[1] == 'k' && q[2] == 'B') v *= 1024;
    if (k < NFIELDS) {
      r->value[k] = v;
      r->present |= 1u << k;
      expect = k + 1;
    }
    p = nl + 1;
  }
  if (n < 0) bad();
  sink += rows[n].end + rows[n].value[3];
  return n + 1;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void measure(const char *mode, long (*op)(void), double budget_ms) {
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
  printf("{\"mode\":\"%s\",\"nsPerOp\":%.2f,\"minNsPerOp\":%.2f,\"runs\":%ld,\"opsPerRun\":%ld}\n", mode, median,
         per_op[0], runs, ops);
  fflush(stdout);
  free(per_op);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: smaps_ref smaps-read,smaps-parse PID BUDGET_MS\n");
    return 2;
  }
  for (size_t k = 0; k < NFIELDS; k++) field_len[k] = strlen(FIELDS[k]);
  char path[64];
  snprintf(path, sizeof path, "/proc/%s/smaps", argv[2]);
  smaps_fd = open(path, O_RDONLY | O_CLOEXEC);
  if (smaps_fd < 0) die(path);
  double budget = strtod(argv[3], NULL);
  if (strstr(argv[1], "smaps-read")) measure("smaps-read", op_read, budget);
  if (strstr(argv[1], "smaps-parse")) measure("smaps-parse", op_parse, budget);
  return 0;
}
