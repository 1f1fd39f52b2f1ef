// Helpers for the convert module's tests (header-only; not part of the
// library): reading a whole disk while checking a reader's promises, and
// converting files with the library the way the pipeline does.
#ifndef OVA2VIRT_CONVERT_DISK_TEST_UTIL_H_
#define OVA2VIRT_CONVERT_DISK_TEST_UTIL_H_

#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "convert/convert.h"
#include "convert/disk_open.h"
#include "convert/qcow2_writer.h"
#include "convert/raw.h"
#include "convert/vmdk_descriptor.h"
#include "convert/vmdk_stream_writer.h"
#include "core/file.h"
#include "tests/support/test_util.h"

namespace ova2virt::testing {

// Reads every run into a string of capacity() bytes. Fails (kFailed) if a
// run leaves the capacity or overlaps an earlier one: readers promise
// neither happens.
inline Result<std::string> TryReadDisk(DiskReader& reader, int threads = 1) {
  if (reader.capacity() > (uint64_t{1} << 30)) {
    return FailedError("test disk too large to hold in memory");
  }
  reader.SetThreads(threads);
  std::string disk(reader.capacity(), '\0');
  std::map<uint64_t, uint64_t> seen;  // start -> end
  DataRun run;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&run));
    if (!more) break;
    uint64_t end = run.offset + run.data.size();
    if (end > reader.capacity() || end < run.offset) {
      return FailedError("run beyond capacity at " +
                         std::to_string(run.offset));
    }
    auto next = seen.upper_bound(run.offset);
    if ((next != seen.end() && next->first < end) ||
        (next != seen.begin() && std::prev(next)->second > run.offset)) {
      return FailedError("overlapping run at " + std::to_string(run.offset));
    }
    if (!run.data.empty()) seen[run.offset] = end;
    std::memcpy(disk.data() + run.offset, run.data.data(), run.data.size());
  }
  return disk;
}

// Opens an image held in memory, as a file (random) or as a pipe.
struct MemoryImage {
  explicit MemoryImage(std::string data) : bytes(std::move(data)) {}
  Result<std::unique_ptr<DiskReader>> Open(bool random,
                                           OpenOptions options = {}) {
    ra = std::make_unique<MemoryRandomAccess>(bytes);
    stream = std::make_unique<MemorySource>(bytes);
    DiskSource src;
    src.name = "image";
    if (random) {
      src.random = ra.get();
    } else {
      src.stream = stream.get();
      if (options.input_size == 0) options.input_size = bytes.size();
    }
    return OpenDiskReader(src, options);
  }
  std::string bytes;
  std::unique_ptr<MemoryRandomAccess> ra;
  std::unique_ptr<MemorySource> stream;
};

// Opens a file for reading the way the command line does, extents resolved
// beside it (names already checked by the reader).
inline Result<std::unique_ptr<DiskReader>> OpenFileReader(
    const std::string& path, std::unique_ptr<FileRandomAccess>* keep,
    OpenOptions options = {}) {
  ASSIGN_OR_RETURN(*keep, FileRandomAccess::Open(path));
  std::string dir = path.substr(0, path.rfind('/') + 1);
  DiskSource src;
  src.name = path;
  src.random = keep->get();
  src.open_extent = [dir](std::string_view name)
      -> Result<std::unique_ptr<RandomAccessSource>> {
    RETURN_IF_ERROR(CheckExtentName(name));
    ASSIGN_OR_RETURN(auto f, FileRandomAccess::Open(dir + std::string(name)));
    return std::unique_ptr<RandomAccessSource>(std::move(f));
  };
  return OpenDiskReader(src, options);
}

// Converts `in` to `out` ("qcow2", "raw" or "vmdk") with the library.
inline Result<ConvertStats> ConvertFile(const std::string& in,
                                        const std::string& out,
                                        const std::string& format,
                                        int threads = 1,
                                        OpenOptions options = {}) {
  std::unique_ptr<FileRandomAccess> keep;
  ASSIGN_OR_RETURN(auto reader, OpenFileReader(in, &keep, options));
  ASSIGN_OR_RETURN(auto tmp, TempOutputFile::Create(out, true));
  FileBlockSink block(tmp->file());
  FileSink seq(tmp->file());
  std::unique_ptr<DiskWriter> writer;
  if (format == "qcow2") {
    writer = std::make_unique<Qcow2Writer>(block, reader->capacity());
  } else if (format == "raw") {
    writer = std::make_unique<RawWriter>(block, reader->capacity());
  } else {
    VmdkStreamWriterOptions o;
    o.extent_name = out.substr(out.rfind('/') + 1);
    writer = std::make_unique<VmdkStreamWriter>(seq, reader->capacity(), o);
  }
  ConvertOptions co;
  co.threads = threads;
  ASSIGN_OR_RETURN(ConvertStats stats, ConvertDisk(*reader, *writer, co));
  RETURN_IF_ERROR(seq.Close());
  RETURN_IF_ERROR(tmp->Commit());
  return stats;
}

// Runs qemu-img with `args`; returns its exit status and output (stderr
// too).
inline CommandResult QemuImg(const std::string& args) {
  return RunCommand("qemu-img " + args + " 2>&1");
}

}  // namespace ova2virt::testing

#endif  // OVA2VIRT_CONVERT_DISK_TEST_UTIL_H_
