/*
 * Benchmark target: a process with about N VMAs (argv[1]).
 *
 *   target N DIR
 *
 * Reserves one anonymous region of R pages and makes every page its own VMA:
 * anonymous pages alternate read-write / read-only (neighbours with different
 * protections cannot merge), and one page in ten is replaced by a file
 * mapping, alternating between this program's own ELF file (a named VMA with
 * a GNU build ID) and a plain data file in DIR (a named VMA without one), so
 * the name and build-ID benchmarks have something to fetch. Pages are never
 * touched: the region costs VMAs, not memory. R is chosen so that the whole
 * process ends up with about N VMAs (vm.max_map_count is 65530 by default).
 *
 * When ready, prints one JSON line
 *   {"pid":..,"vmas":..,"fileVmas":..,"elfPath":"..","dataPath":"..","regionStart":"0x..","regionEnd":"0x.."}
 * and then waits until stdin is closed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void die(const char *what) {
  fprintf(stderr, "target: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* Lines of /proc/self/maps, i.e. VMAs (including [vsyscall]). */
static long count_vmas(void) {
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open /proc/self/maps");
  static char buf[1 << 16];
  long lines = 0;
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    for (ssize_t i = 0; i < n; i++) lines += buf[i] == '\n';
  if (n < 0) die("read /proc/self/maps");
  close(fd);
  return lines;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s N DIR\n", argv[0]);
    return 2;
  }
  long want = strtol(argv[1], NULL, 10);
  const char *dir = argv[2];
  long page = sysconf(_SC_PAGESIZE);
  /* A static stdout buffer: a malloc'd one could add a [heap] VMA after counting. */
  static char out_buf[4096];
  setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);

  static char elf_path[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", elf_path, sizeof elf_path - 1);
  if (len < 0) die("readlink /proc/self/exe");
  elf_path[len] = 0;
  int elf_fd = open(elf_path, O_RDONLY | O_CLOEXEC);
  if (elf_fd < 0) die("open own executable");

  static char data_path[PATH_MAX];
  snprintf(data_path, sizeof data_path, "%s/procmap-bench-data", dir);
  int data_fd = open(data_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (data_fd < 0) die("create data file");
  if (ftruncate(data_fd, page) != 0) die("ftruncate data file");

  /* The mmap below adds the region itself; the rest of the process is fixed. */
  long base = count_vmas();
  long pages = want - base;
  if (pages < 1) pages = 1;

  char *region = mmap(NULL, (size_t)pages * page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (region == MAP_FAILED) die("mmap region");

  long file_vmas = 0;
  for (long i = 0; i < pages; i++) {
    char *p = region + i * page;
    if (i % 10 == 5) {
      /* Isolated between anonymous pages, so file pages never merge either. */
      int fd = (i % 20 == 5) ? elf_fd : data_fd;
      if (mmap(p, page, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED) die("mmap file page");
      file_vmas++;
    } else if (i % 2 == 1) {
      if (mprotect(p, page, PROT_READ) != 0) die("mprotect");
    }
  }

  printf("{\"pid\":%d,\"vmas\":%ld,\"fileVmas\":%ld,\"elfPath\":\"%s\",\"dataPath\":\"%s\","
         "\"regionStart\":\"0x%lx\",\"regionEnd\":\"0x%lx\"}\n",
         getpid(), count_vmas(), file_vmas, elf_path, data_path,
         (unsigned long)region, (unsigned long)(region + pages * page));
  fflush(stdout);

  char c;
  while (read(0, &c, 1) > 0) {
  }
  unlink(data_path);
  return 0;
}
