// bench_limits: the machine's limits for the work an import or an export
// cannot avoid, measured on the benchmark's own files, one core each.
//
//   bench_limits grains DISK.vmdk [SAMPLE_MIB]
//     Walks the grains of a streamOptimized VMDK (either layout) and times,
//     on this thread: inflating every grain with zlib and with libdeflate,
//     and deflating (level 6, zlib's default) a sample of about SAMPLE_MIB
//     (default 128; 0: no deflating) of the inflated grains, spread evenly
//     over the disk, with zlib and with libdeflate. Only the library calls
//     are timed.
//   bench_limits sha256 FILE
//     SHA-256 (OpenSSL EVP, which uses the CPU's SHA instructions) of FILE
//     read with 1 MiB reads, as `ova2virt verify` and `sha256sum` read it;
//     and of a 64 MiB buffer in memory (the hashing alone).
//
// Prints "key value" lines (seconds, bytes, MB/s = 10^6 bytes a second).
// Seconds are CPU seconds of the measuring thread (system time included:
// the reads of the sha256 mode count), so a busy machine does not inflate
// them; on an idle one they equal wall time.
// A benchmark tool, not part of ova2virt: it calls zlib, libdeflate and
// OpenSSL directly because measuring them is its whole job.
#include <fcntl.h>
#include <libdeflate.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

// CPU time of this thread: what the work costs one core, whatever else
// the machine is doing (wall time on a busy machine would count waiting).
struct Clock {
  static double now() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
  }
};

double Since(double start) { return Clock::now() - start; }

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "bench_limits: %s\n", why.c_str());
  std::exit(1);
}

uint64_t Le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}
uint32_t Le32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
         uint32_t{p[3]} << 24;
}

void Report(const char* key, double value) {
  std::printf("%s %.3f\n", key, value);
}
void Rate(const char* key, uint64_t bytes, double seconds) {
  std::printf("%s_seconds %.3f\n%s_mbps %.0f\n", key, seconds, key,
              seconds > 0 ? bytes / seconds / 1e6 : 0.0);
}

struct Grain {
  const uint8_t* data;
  uint32_t size;
};

int Grains(const char* path, uint64_t sample_bytes) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) Die(std::string("cannot open ") + path);
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < 512) Die("not a vmdk");
  size_t size = static_cast<size_t>(st.st_size);
  // Mapped and faulted in up front, so that only the codecs are timed.
  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  if (map == MAP_FAILED) Die("mmap failed");
  const uint8_t* f = static_cast<const uint8_t*>(map);
  if (Le32(f) != 0x564d444b) Die("not a sparse vmdk (magic)");
  uint64_t grain_bytes = Le64(f + 20) * 512;
  uint64_t overhead = Le64(f + 64) * 512;
  if (grain_bytes == 0 || grain_bytes > (2u << 20)) Die("odd grain size");

  std::vector<Grain> grains;
  uint64_t compressed = 0;
  for (uint64_t pos = overhead; pos + 512 <= size;) {
    uint32_t n = Le32(f + pos + 8);
    if (n != 0) {
      if (pos + 12 + n > size) Die("grain runs past the end");
      grains.push_back({f + pos + 12, n});
      compressed += n;
      pos += (12 + uint64_t{n} + 511) / 512 * 512;
      continue;
    }
    uint32_t type = Le32(f + pos + 12);
    if (type == 0) break;  // end of stream
    pos += 512 + Le64(f + pos) * 512;
  }
  if (grains.empty()) Die("no grains");
  std::vector<uint8_t> out(grain_bytes);

  // zlib, the way most tools (qemu-img among them) inflate.
  z_stream z = {};
  if (inflateInit(&z) != Z_OK) Die("zlib init");
  uint64_t produced = 0;
  double start = Clock::now();
  for (const Grain& g : grains) {
    inflateReset(&z);
    z.next_in = const_cast<uint8_t*>(g.data);
    z.avail_in = g.size;
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    int r = inflate(&z, Z_FINISH);
    if (r != Z_STREAM_END) Die("zlib: bad grain");
    produced += out.size() - z.avail_out;
  }
  double zlib_inflate = Since(start);
  inflateEnd(&z);

  libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  uint64_t produced2 = 0;
  start = Clock::now();
  for (const Grain& g : grains) {
    size_t got = 0;
    if (libdeflate_zlib_decompress(d, g.data, g.size, out.data(), out.size(),
                                   &got) != LIBDEFLATE_SUCCESS) {
      Die("libdeflate: bad grain");
    }
    produced2 += got;
  }
  double ld_inflate = Since(start);
  if (produced2 != produced) Die("zlib and libdeflate disagree");

  if (sample_bytes == 0) {  // inflate only
    libdeflate_free_decompressor(d);
    std::printf("grains %zu\ndata_bytes %llu\n", grains.size(),
                static_cast<unsigned long long>(produced));
    Rate("zlib_inflate", produced, zlib_inflate);
    Rate("libdeflate_inflate", produced, ld_inflate);
    return 0;
  }
  // The deflate sample: every k-th grain, inflated (untimed) once.
  size_t k = static_cast<size_t>(
      std::max<uint64_t>(1, produced / std::max<uint64_t>(1, sample_bytes)));
  std::vector<uint8_t> plain;
  std::vector<size_t> lengths;
  for (size_t i = 0; i < grains.size(); i += k) {
    size_t at = plain.size();
    plain.resize(at + grain_bytes);
    size_t got = 0;
    libdeflate_zlib_decompress(d, grains[i].data, grains[i].size,
                               plain.data() + at, grain_bytes, &got);
    plain.resize(at + got);
    lengths.push_back(got);
  }
  libdeflate_free_decompressor(d);
  std::vector<uint8_t> comp(compressBound(grain_bytes) + 64);
  start = Clock::now();
  uint64_t zlib_out = 0;
  size_t at = 0;
  for (size_t len : lengths) {
    uLongf n = comp.size();
    if (compress2(comp.data(), &n, plain.data() + at, len, 6) != Z_OK) {
      Die("zlib deflate failed");
    }
    zlib_out += n;
    at += len;
  }
  double zlib_deflate = Since(start);
  libdeflate_compressor* c = libdeflate_alloc_compressor(6);
  start = Clock::now();
  uint64_t ld_out = 0;
  at = 0;
  for (size_t len : lengths) {
    size_t n = libdeflate_zlib_compress(c, plain.data() + at, len, comp.data(),
                                        comp.size());
    if (n == 0) Die("libdeflate deflate failed");
    ld_out += n;
    at += len;
  }
  double ld_deflate = Since(start);
  libdeflate_free_compressor(c);

  std::printf("grains %zu\ngrain_bytes %llu\n", grains.size(),
              static_cast<unsigned long long>(grain_bytes));
  std::printf("compressed_bytes %llu\ndata_bytes %llu\n",
              static_cast<unsigned long long>(compressed),
              static_cast<unsigned long long>(produced));
  // Rates in uncompressed bytes, as a disk's data rate.
  Rate("zlib_inflate", produced, zlib_inflate);
  Rate("libdeflate_inflate", produced, ld_inflate);
  std::printf("deflate_sample_bytes %zu\n", plain.size());
  Rate("zlib_deflate6", plain.size(), zlib_deflate);
  Rate("libdeflate_deflate6", plain.size(), ld_deflate);
  Report("zlib_deflate6_ratio", double(zlib_out) / double(plain.size()));
  Report("libdeflate_deflate6_ratio", double(ld_out) / double(plain.size()));
  munmap(map, size);
  close(fd);
  return 0;
}

int Sha256(const char* path) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::vector<uint8_t> buf(1 << 20);
  int fd = open(path, O_RDONLY);
  if (fd < 0) Die(std::string("cannot open ") + path);
  uint64_t total = 0;
  double start = Clock::now();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  for (;;) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0) Die("read failed");
    if (n == 0) break;
    EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(n));
    total += static_cast<uint64_t>(n);
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  double file_seconds = Since(start);
  close(fd);

  // The hashing alone, on memory (what the CPU can do).
  std::vector<uint8_t> mem(64 << 20, 0x5a);
  start = Clock::now();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  for (int i = 0; i < 4; ++i) EVP_DigestUpdate(ctx, mem.data(), mem.size());
  EVP_DigestFinal_ex(ctx, md, &len);
  double mem_seconds = Since(start);
  EVP_MD_CTX_free(ctx);
  std::printf("file_bytes %llu\n", static_cast<unsigned long long>(total));
  Rate("sha256_file", total, file_seconds);
  Rate("sha256_memory", uint64_t{4} * mem.size(), mem_seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "grains" && (argc == 3 || argc == 4)) {
    uint64_t sample = argc == 4 ? std::strtoull(argv[3], nullptr, 10) : 128;
    return Grains(argv[2], sample << 20);
  }
  if (mode == "sha256" && argc == 3) return Sha256(argv[2]);
  std::fprintf(stderr,
               "usage: bench_limits grains DISK.vmdk [SAMPLE_MIB]\n"
               "       bench_limits sha256 FILE\n");
  return 2;
}
