#include "pipeline/convert_disk.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <optional>

#include "convert/disk_open.h"
#include "convert/owned_sources.h"
#include "convert/qcow2_writer.h"
#include "convert/raw.h"
#include "convert/vmdk_descriptor.h"
#include "convert/vmdk_stream_writer.h"
#include "core/compress.h"
#include "core/file.h"
#include "core/image_file_sink.h"
#include "core/strings.h"

namespace ova2virt {
namespace {

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// The -o options, split on commas, as key/value pairs.
Result<std::vector<std::pair<std::string, std::string>>> ParseOptions(
    const std::vector<std::string>& options) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& group : options) {
    size_t start = 0;
    while (start <= group.size()) {
      size_t comma = group.find(',', start);
      std::string item =
          group.substr(start, comma == std::string::npos ? std::string::npos
                                                         : comma - start);
      start = comma == std::string::npos ? group.size() + 1 : comma + 1;
      if (item.empty()) continue;
      size_t eq = item.find('=');
      if (eq == std::string::npos || eq == 0) {
        return UsageError("format option " + Quote(item) + " is not key=value");
      }
      out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    }
  }
  return out;
}

Result<VmdkStreamWriterOptions> VmdkOptions(
    const std::vector<std::pair<std::string, std::string>>& options,
    const std::string& extent_name) {
  VmdkStreamWriterOptions o;
  o.extent_name = extent_name;
  for (const auto& [key, value] : options) {
    if (key == "subformat") {
      if (value != "streamOptimized") {
        return UnsupportedError("vmdk subformat " + Quote(value) +
                                " is not written; ova2virt writes "
                                "streamOptimized");
      }
    } else if (key == "adapter_type") {
      static const char* kAdapters[] = {"ide", "buslogic", "lsilogic",
                                        "legacyESX", "pvscsi"};
      if (std::none_of(std::begin(kAdapters), std::end(kAdapters),
                       [&](const char* a) { return value == a; })) {
        return UsageError("adapter_type " + Quote(value) +
                          " (want ide, buslogic, lsilogic, legacyESX, "
                          "pvscsi)");
      }
      o.adapter_type = value;
    } else if (key == "hwversion") {
      if (value.empty() || value.size() > 3 ||
          !std::all_of(value.begin(), value.end(), ::isdigit)) {
        return UsageError("hwversion " + Quote(value) + " is not a number");
      }
      o.virtual_hw_version = value;
    } else if (key == "compression_level") {
      if (value.size() != 1 && value.size() != 2) {
        return UsageError("compression_level " + Quote(value));
      }
      int level = std::atoi(value.c_str());
      if (level < 1 || level > 12) {
        return UsageError("compression_level " + Quote(value) +
                          " (want 1 to 12)");
      }
      o.compression_level = level;
    } else {
      return UsageError("unknown vmdk option " + Quote(key));
    }
  }
  return o;
}

// Everything a conversion reads from, kept alive together.
struct Input {
  std::unique_ptr<RandomAccessSource> random;
  std::unique_ptr<ByteSource> raw_stream;  // the file or stdin, read forward
  std::unique_ptr<ByteSource> gzip_base;   // what the gzip decoder reads
  std::unique_ptr<ByteSource> stream;      // what the disk reader reads
  std::unique_ptr<DiskReader> reader;
};

Status OpenInput(const ConvertRequest& req, Input& in) {
  const bool is_stdin = req.input == "-";
  File file;
  if (is_stdin) {
    file = File::Borrow(STDIN_FILENO, "stdin");
  } else {
    ASSIGN_OR_RETURN(file, File::OpenRead(req.input));
  }
  std::string name = is_stdin ? "stdin" : req.input;
  if (file.IsSeekable()) {
    ASSIGN_OR_RETURN(uint64_t size, file.Size());
    in.random = std::make_unique<FileRandomAccess>(std::move(file), size);
  } else {
    in.raw_stream = std::make_unique<FileSource>(std::move(file));
  }
  // A gzip-compressed image (an OVA member saved as disk.vmdk.gz) is read
  // through the decoder: one pass, no temporary file.
  if (req.input_format != "raw") {
    std::vector<uint8_t> head(2);
    size_t got = 0;
    if (in.random) {
      ASSIGN_OR_RETURN(got, in.random->ReadAt(0, head));
    } else {
      ASSIGN_OR_RETURN(got, ReadUpTo(*in.raw_stream, head));
    }
    head.resize(got);
    if (LooksLikeGzip(head)) {
      if (in.random) {
        in.gzip_base = std::make_unique<SequentialReader>(*in.random);
      } else {
        in.gzip_base = std::make_unique<PrefixedSource>(head, *in.raw_stream);
      }
      in.stream = std::make_unique<GzipSource>(*in.gzip_base);
    } else if (!in.random) {
      in.stream = std::make_unique<PrefixedSource>(head, *in.raw_stream);
    }
  } else if (!in.random) {
    in.stream = std::move(in.raw_stream);
  }

  DiskSource src;
  src.name = name;
  if (in.stream) {
    src.stream = in.stream.get();
  } else {
    src.random = in.random.get();
  }
  if (!is_stdin) {
    std::string dir = DirName(req.input);
    src.open_extent = [dir](std::string_view extent)
        -> Result<std::unique_ptr<RandomAccessSource>> {
      // Checked by the reader already; checked again where the name meets
      // the file system.
      RETURN_IF_ERROR(CheckExtentName(extent));
      std::string path = dir + "/" + std::string(extent);
      ASSIGN_OR_RETURN(auto f, FileRandomAccess::Open(path));
      return std::unique_ptr<RandomAccessSource>(std::move(f));
    };
  }
  OpenOptions options;
  options.format = req.input_format;
  // A file named *.raw or *.img that is no known format is a raw image:
  // naming it so is asking for raw. (Raw is never guessed from content.)
  if (options.format.empty() && in.random && !in.stream) {
    std::string ext = Lower(BaseName(req.input));
    ext = ext.substr(std::min(ext.size(), ext.rfind('.') + 1));
    std::vector<uint8_t> head(512);
    ASSIGN_OR_RETURN(size_t got, in.random->ReadAt(0, head));
    head.resize(got);
    auto probed = ProbeDiskFormat(head);
    if ((ext == "raw" || ext == "img") && probed.ok() &&
        *probed == ProbedFormat::kUnknown) {
      options.format = "raw";
    }
  }
  ASSIGN_OR_RETURN(in.reader, OpenDiskReader(src, options));
  return OkStatus();
}

bool SameFile(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace

Result<std::string> OutputFormatFor(const std::string& path) {
  std::string base = Lower(BaseName(path));
  size_t dot = base.rfind('.');
  std::string ext = dot == std::string::npos ? "" : base.substr(dot + 1);
  if (ext == "qcow2" || ext == "qcow") return std::string("qcow2");
  if (ext == "raw" || ext == "img") return std::string("raw");
  if (ext == "vmdk") return std::string("vmdk");
  return UsageError("cannot tell the output format from " + Quote(path) +
                    "; use -O qcow2, raw or vmdk");
}

Result<ConvertReport> ConvertDiskImage(const ConvertRequest& req,
                                       Progress& progress) {
  std::string format = req.output_format;
  if (format.empty()) {
    if (req.output == "-") {
      return UsageError("writing to stdout needs -O vmdk");
    }
    ASSIGN_OR_RETURN(format, OutputFormatFor(req.output));
  }
  if (format != "qcow2" && format != "raw" && format != "vmdk") {
    return UsageError("unknown output format " + Quote(format) +
                      " (want qcow2, raw or vmdk)");
  }
  if (req.output == "-" && format != "vmdk") {
    return UsageError("only vmdk (a stream) can be written to stdout");
  }
  if (!req.input_format.empty() && req.input_format != "vmdk" &&
      req.input_format != "qcow2" && req.input_format != "raw") {
    return UsageError("unknown input format " + Quote(req.input_format) +
                      " (want vmdk, qcow2 or raw)");
  }
  ASSIGN_OR_RETURN(auto options, ParseOptions(req.output_options));
  VmdkStreamWriterOptions vmdk_options;
  if (format == "vmdk") {
    ASSIGN_OR_RETURN(
        vmdk_options,
        VmdkOptions(options, req.output == "-" ? std::string("disk.vmdk")
                                               : BaseName(req.output)));
  } else if (!options.empty()) {
    return UsageError(format + " takes no -o options (got " +
                      Quote(options[0].first) + ")");
  }
  if (req.input != "-" && req.output != "-" &&
      SameFile(req.input, req.output)) {
    return UsageError(Quote(req.output) + " is the input itself");
  }

  auto start = std::chrono::steady_clock::now();
  Input in;
  RETURN_IF_ERROR(OpenInput(req, in));
  DiskReader& reader = *in.reader;

  // The output: a temporary file renamed at the end, or stdout.
  std::unique_ptr<TempOutputFile> tmp;
  File stdout_file;
  File* out_file = nullptr;
  if (req.output == "-") {
    stdout_file = File::Borrow(STDOUT_FILENO, "stdout");
    out_file = &stdout_file;
  } else {
    ASSIGN_OR_RETURN(tmp, TempOutputFile::Create(req.output, req.replace));
    out_file = &tmp->file();
  }
  // qcow2 and raw are written by offset: a disk image written to a file is
  // not read back by this process, so aligned runs go straight to the disk
  // (stdout stays buffered). A streamOptimized VMDK is written in order.
  std::optional<ImageFileSink> image;  // its writer thread only when needed
  if (format == "qcow2" || format == "raw") {
    image.emplace(*out_file, req.output == "-"
                                 ? FileBlockSink::Mode::kBuffered
                                 : FileBlockSink::Mode::kDirectWhenAligned);
  }
  std::optional<FileSink> stream_sink;  // its buffer only when needed
  std::unique_ptr<DiskWriter> writer;
  if (format == "qcow2") {
    writer = std::make_unique<Qcow2Writer>(image->sink(), reader.capacity());
  } else if (format == "raw") {
    writer = std::make_unique<RawWriter>(image->sink(), reader.capacity());
  } else {
    stream_sink.emplace(*out_file, 4 << 20);
    writer = std::make_unique<VmdkStreamWriter>(*stream_sink, reader.capacity(),
                                                vmdk_options);
  }

  ConvertOptions co;
  co.threads = req.threads;
  co.progress = &progress;
  co.label = req.input == "-" ? "stdin" : BaseName(req.input);
  co.input_name = req.input == "-" ? "stdin" : req.input;
  ASSIGN_OR_RETURN(ConvertStats stats, ConvertDisk(reader, *writer, co));
  if (image) RETURN_IF_ERROR(image->Flush());
  if (stream_sink) RETURN_IF_ERROR(stream_sink->Close());
  if (tmp != nullptr) RETURN_IF_ERROR(tmp->Commit());

  ConvertReport report;
  report.input_format = std::string(reader.format_name());
  report.output_format = std::string(writer->format_name());
  report.stats = stats;
  // The whole job, opening and the final sync included.
  report.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return report;
}

}  // namespace ova2virt
