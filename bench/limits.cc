// bench_limits: the machine's limits for the work an import or an export
// cannot avoid, measured on the benchmark's own files, one core each.
//
//   bench_limits grains DISK.vmdk [SAMPLE_MIB [OFFSET LENGTH]]
//     Walks the grains of a streamOptimized VMDK (either layout; with
//     OFFSET and LENGTH, the VMDK is those bytes of the file: a member read
//     in place in an OVA) and times,
//     on this thread: inflating every grain with zlib and with libdeflate,
//     and deflating (level 6, zlib's default) a sample of about SAMPLE_MIB
//     (default 128; 0: no deflating) of the inflated grains, spread evenly
//     over the disk, with zlib and with libdeflate. Only the library calls
//     are timed.
//   bench_limits sha256 FILE [OFFSET LENGTH]
//     SHA-256 (OpenSSL EVP, which uses the CPU's SHA instructions) of FILE
//     (or of LENGTH bytes from OFFSET: one member of an OVA) read with
//     1 MiB reads, as `ova2virt verify` and `sha256sum` read it; and of a
//     64 MiB buffer in memory (the hashing alone).
//   bench_limits write FILE SIZE_MIB
//     Sequential writes of SIZE_MIB MiB of incompressible data in 1 MiB
//     blocks to a new FILE, three ways, each ended by fdatasync and timed
//     in wall-clock time (the device's work, not this thread's):
//       odirect   pwrite with O_DIRECT, one write in flight (queue depth 1,
//                 as one writer thread does);
//       io_uring  O_DIRECT writes through io_uring, 4 in flight (when built
//                 with liburing; "not_built" otherwise);
//       buffered  write through the page cache, sync_file_range(WRITE)
//                 started on each 8 MiB behind the writer, fdatasync at the
//                 end.
//     FILE is removed after each way. write_best_mbps is the fastest.
//     Each way also reports the CPU seconds the process spent (mostly system
//     time: pinning pages, building and submitting requests, copying into
//     the page cache for the buffered way): what writing costs the cores
//     besides the device's time. Interrupt handling is not in it where the
//     kernel accounts it apart (IRQ_TIME_ACCOUNTING), so it is a floor.
//
// Prints "key value" lines (seconds, bytes, MB/s = 10^6 bytes a second).
// Except for write, seconds are CPU seconds of the measuring thread (system
// time included: the reads of the sha256 mode count), so a busy machine does
// not inflate them; on an idle one they equal wall time. A benchmark tool, not
// part of ova2virt: it calls zlib, libdeflate and OpenSSL directly because
// measuring them is its whole job.
#include <fcntl.h>
#include <libdeflate.h>
#if defined(BENCH_HAVE_LIBURING)
#include <liburing.h>
#endif
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

// A clock's reading in seconds.
double Seconds(clockid_t clock) {
  timespec t;
  clock_gettime(clock, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

// CPU time of this thread: what the work costs one core, whatever else
// the machine is doing (wall time on a busy machine would count waiting).
struct Clock {
  static double now() { return Seconds(CLOCK_THREAD_CPUTIME_ID); }
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

int Grains(const char* path, uint64_t sample_bytes, uint64_t offset,
           uint64_t length) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) Die(std::string("cannot open ") + path);
  struct stat st;
  if (fstat(fd, &st) != 0) Die("cannot stat");
  size_t file_size = static_cast<size_t>(st.st_size);
  if (length == 0) length = file_size - std::min<uint64_t>(offset, file_size);
  if (offset > file_size || length > file_size - offset || length < 512) {
    Die("not a vmdk (offset and length outside the file)");
  }
  size_t size = static_cast<size_t>(length);
  // Mapped and faulted in up front, so that only the codecs are timed.
  void* map =
      mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  if (map == MAP_FAILED) Die("mmap failed");
  const uint8_t* f = static_cast<const uint8_t*>(map) + offset;
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
  munmap(map, file_size);
  close(fd);
  return 0;
}

int Sha256(const char* path, uint64_t offset, uint64_t length) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::vector<uint8_t> buf(1 << 20);
  int fd = open(path, O_RDONLY);
  if (fd < 0) Die(std::string("cannot open ") + path);
  uint64_t total = 0;
  double start = Clock::now();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  for (;;) {
    size_t want = buf.size();
    if (length != 0) want = std::min<uint64_t>(want, length - total);
    if (want == 0) break;
    ssize_t n = pread(fd, buf.data(), want, static_cast<off_t>(offset + total));
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

// Wall-clock time: a write's cost is the device's, not this thread's.
double WallNow() { return Seconds(CLOCK_MONOTONIC); }

// CPU time of the whole process: io_uring may hand writes to kernel
// worker threads of this process (io-wq), whose time the calling thread's
// clock would miss.
double ProcessCpuNow() { return Seconds(CLOCK_PROCESS_CPUTIME_ID); }

constexpr size_t kBlock = 1 << 20;
constexpr size_t kPattern = 16;  // distinct 1 MiB blocks, cycled

// kPattern MiB of incompressible bytes (xorshift), 4 KiB aligned for
// O_DIRECT.
uint8_t* IncompressibleBlocks() {
  void* p = nullptr;
  if (posix_memalign(&p, 4096, kPattern * kBlock) != 0) Die("out of memory");
  uint64_t x = 0x9e3779b97f4a7c15u;
  auto* words = static_cast<uint64_t*>(p);
  for (size_t i = 0; i < kPattern * kBlock / 8; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    words[i] = x;
  }
  return static_cast<uint8_t*>(p);
}

// OpenNew(path, flags): a new empty file, or -1 (errno set).
int OpenNew(const char* path, int flags) {
  unlink(path);
  return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | flags, 0600);
}

void WriteResult(const char* way, uint64_t bytes, double seconds,
                 double cpu_seconds, double* best) {
  double mbps = seconds > 0 ? bytes / seconds / 1e6 : 0.0;
  std::printf("write_%s_seconds %.3f\nwrite_%s_mbps %.0f\n", way, seconds, way,
              mbps);
  std::printf("write_%s_cpu_seconds %.3f\n", way, cpu_seconds);
  *best = std::max(*best, mbps);
}

// Each returns the seconds, or a negative value when the way is not
// available here (O_DIRECT refused by the file system), and sets *cpu to
// the CPU seconds the process spent writing (ProcessCpuNow).
double WriteODirect(const char* path, const uint8_t* data, size_t blocks,
                    double* cpu) {
  int fd = OpenNew(path, O_DIRECT);
  if (fd < 0) return -1;
  double cpu_start = ProcessCpuNow();
  double start = WallNow();
  for (size_t i = 0; i < blocks; ++i) {
    ssize_t n = pwrite(fd, data + (i % kPattern) * kBlock, kBlock,
                       static_cast<off_t>(i * kBlock));
    if (n != static_cast<ssize_t>(kBlock)) Die("O_DIRECT pwrite failed");
  }
  if (fdatasync(fd) != 0) Die("fdatasync failed");
  double seconds = WallNow() - start;
  *cpu = ProcessCpuNow() - cpu_start;
  close(fd);
  unlink(path);
  return seconds;
}

double WriteBuffered(const char* path, const uint8_t* data, size_t blocks,
                     double* cpu) {
  int fd = OpenNew(path, 0);
  if (fd < 0) Die(std::string("cannot create ") + path);
  constexpr size_t kWindow = 8;  // MiB written before their write-back starts
  double cpu_start = ProcessCpuNow();
  double start = WallNow();
  for (size_t i = 0; i < blocks; ++i) {
    ssize_t n = pwrite(fd, data + (i % kPattern) * kBlock, kBlock,
                       static_cast<off_t>(i * kBlock));
    if (n != static_cast<ssize_t>(kBlock)) Die("buffered write failed");
    if ((i + 1) % kWindow == 0) {
      sync_file_range(fd, static_cast<off_t>((i + 1 - kWindow) * kBlock),
                      static_cast<off_t>(kWindow * kBlock),
                      SYNC_FILE_RANGE_WRITE);
    }
  }
  if (fdatasync(fd) != 0) Die("fdatasync failed");
  double seconds = WallNow() - start;
  *cpu = ProcessCpuNow() - cpu_start;
  close(fd);
  unlink(path);
  return seconds;
}

#if defined(BENCH_HAVE_LIBURING)
double WriteIoUring(const char* path, const uint8_t* data, size_t blocks,
                    double* cpu) {
  constexpr unsigned kDepth = 4;
  int fd = OpenNew(path, O_DIRECT);
  if (fd < 0) return -1;
  io_uring ring;
  if (io_uring_queue_init(kDepth, &ring, 0) < 0) {
    close(fd);
    unlink(path);
    return -2;  // io_uring refused (kernel setting, seccomp)
  }
  double cpu_start = ProcessCpuNow();
  double start = WallNow();
  size_t submitted = 0, completed = 0;
  while (completed < blocks) {
    while (submitted < blocks && submitted - completed < kDepth) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring);
      if (sqe == nullptr) break;
      io_uring_prep_write(sqe, fd, data + (submitted % kPattern) * kBlock,
                          kBlock, uint64_t{submitted} * kBlock);
      ++submitted;
    }
    if (io_uring_submit(&ring) < 0) Die("io_uring_submit failed");
    io_uring_cqe* cqe = nullptr;
    if (io_uring_wait_cqe(&ring, &cqe) < 0) Die("io_uring_wait_cqe failed");
    do {
      if (cqe->res != static_cast<int>(kBlock)) Die("io_uring write failed");
      io_uring_cqe_seen(&ring, cqe);
      ++completed;
    } while (io_uring_peek_cqe(&ring, &cqe) == 0);
  }
  if (fdatasync(fd) != 0) Die("fdatasync failed");
  double seconds = WallNow() - start;
  *cpu = ProcessCpuNow() - cpu_start;
  io_uring_queue_exit(&ring);
  close(fd);
  unlink(path);
  return seconds;
}
#endif

int Write(const char* path, uint64_t mib) {
  if (mib == 0) Die("write: SIZE_MIB must be at least 1");
  uint8_t* data = IncompressibleBlocks();
  uint64_t bytes = mib * kBlock;
  double best = 0;
  double cpu = 0;
  double s = WriteODirect(path, data, mib, &cpu);
  if (s >= 0) {
    WriteResult("odirect", bytes, s, cpu, &best);
  } else {
    std::printf("write_odirect_mbps unsupported\n");
  }
#if defined(BENCH_HAVE_LIBURING)
  s = WriteIoUring(path, data, mib, &cpu);
  if (s >= 0) {
    WriteResult("io_uring", bytes, s, cpu, &best);
  } else {
    std::printf("write_io_uring_mbps %s\n",
                s == -1 ? "unsupported" : "refused");
  }
#else
  std::printf("write_io_uring_mbps not_built\n");
#endif
  s = WriteBuffered(path, data, mib, &cpu);
  WriteResult("buffered", bytes, s, cpu, &best);
  std::printf("write_bytes %llu\nwrite_best_mbps %.0f\n",
              static_cast<unsigned long long>(bytes), best);
  free(data);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  auto number = [&](int i) { return std::strtoull(argv[i], nullptr, 10); };
  if (mode == "grains" && (argc == 3 || argc == 4 || argc == 6)) {
    uint64_t sample = argc >= 4 ? number(3) : 128;
    return Grains(argv[2], sample << 20, argc == 6 ? number(4) : 0,
                  argc == 6 ? number(5) : 0);
  }
  if (mode == "sha256" && (argc == 3 || argc == 5)) {
    return Sha256(argv[2], argc == 5 ? number(3) : 0,
                  argc == 5 ? number(4) : 0);
  }
  if (mode == "write" && argc == 4) return Write(argv[2], number(3));
  std::fprintf(stderr,
               "usage: bench_limits grains DISK.vmdk [SAMPLE_MIB [OFFSET "
               "LENGTH]]\n"
               "       bench_limits sha256 FILE [OFFSET LENGTH]\n"
               "       bench_limits write FILE SIZE_MIB\n");
  return 2;
}
