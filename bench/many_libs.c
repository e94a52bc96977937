/*
 * Replay target (case 8): a C program that loads many shared libraries
 * (dlopen of the common ones this machine has, with everything they pull
 * in) and keeps calling a function of each, so that a profile's addresses
 * spread over many mappings. Prints {"pid", "libs"} once ready; stops working
 * (stays alive, its libraries mapped) at a line "idle" on its standard input;
 * exits when that closes.
 */
#include <dlfcn.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum kind { CRC, BUF_LEN_SEED, HASH, COMPRESS, DOUBLE, CSTRING };
struct fn {
  const char* lib;
  const char* sym;
  enum kind kind;
};
static const struct fn FNS[] = {
    {"libz.so.1", "crc32", CRC},
    {"libz.so.1", "adler32", CRC},
    {"liblzma.so.5", "lzma_crc64", BUF_LEN_SEED},
    {"liblzma.so.5", "lzma_crc32", BUF_LEN_SEED},
    {"libcrypto.so.3", "SHA256", HASH},
    {"libcrypto.so.3", "SHA1", HASH},
    {"libcrypto.so.3", "MD5", HASH},
    {"libzstd.so.1", "ZSTD_compress", COMPRESS},
    {"libm.so.6", "exp", DOUBLE},
    {"libm.so.6", "log", DOUBLE},
    {"libelf.so.1", "elf_hash", CSTRING},
    {"libxml2.so.2", "xmlStrlen", CSTRING},
    {"libexpat.so.1", "XML_ExpatVersion", CSTRING},
    {"libcurl.so.4", "curl_version", CSTRING},
    {"libarchive.so.13", "archive_version_details", CSTRING},
    {"libsqlite3.so.0", "sqlite3_sourceid", CSTRING},
    {"libdw.so.1", "dwfl_version", CSTRING},
    {"libssl.so.3", "OpenSSL_version_num", CSTRING},
};
#define NFNS (sizeof FNS / sizeof FNS[0])

static unsigned char buf[16384], out[65536];
volatile uint64_t sink;

int main(void) {
  void* f[NFNS] = {0};
  int libs = 0;
  for (size_t i = 0; i < NFNS; i++) {
    void* h = dlopen(FNS[i].lib, RTLD_NOW | RTLD_LOCAL);
    if (h) f[i] = dlsym(h, FNS[i].sym);
    if (f[i]) libs++;
  }
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(i * 131 + 7);
  buf[sizeof buf - 1] = 0;
  printf("{\"pid\":%d,\"functions\":%d}\n", (int)getpid(), libs);
  fflush(stdout);
  struct pollfd in = {0, POLLIN, 0};
  for (uint64_t round = 0;; round++) {
    for (size_t i = 0; i < NFNS; i++) {
      if (!f[i]) continue;
      switch (FNS[i].kind) {
        case CRC: sink += ((unsigned long (*)(unsigned long, const void*, unsigned))f[i])(0, buf, sizeof buf); break;
        case BUF_LEN_SEED: sink += ((uint64_t (*)(const void*, size_t, uint64_t))f[i])(buf, sizeof buf, 0); break;
        case HASH: ((void* (*)(const void*, size_t, void*))f[i])(buf, sizeof buf, out); sink += out[0]; break;
        case COMPRESS: sink += ((size_t (*)(void*, size_t, const void*, size_t, int))f[i])(out, sizeof out, buf, sizeof buf, 1); break;
        case DOUBLE: sink += (uint64_t)((double (*)(double))f[i])((double)(round % 100) + 0.5); break;
        case CSTRING:
          // Functions of no argument or of a string: both get the buffer, a valid C string.
          sink += (uintptr_t)((uintptr_t (*)(const void*))f[i])(buf); break;
      }
    }
    if ((round & 15) == 0 && poll(&in, 1, 0) > 0) {
      char c;
      if (read(0, &c, 1) <= 0) return 0;
      // "idle": recorded; stay alive (mapped) without working until stdin closes.
      if (c == 'i') {
        while (read(0, &c, 1) > 0) {
        }
        return 0;
      }
    }
  }
}
