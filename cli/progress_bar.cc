#include "cli/progress_bar.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cmath>

namespace ova2virt::cli {

std::string HumanBytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%llu B",
                  static_cast<unsigned long long>(bytes));
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
}

std::string TerminalProgressBar::Render(std::string_view label, uint64_t done,
                                        uint64_t total, double seconds,
                                        int width) {
  std::string line(label.substr(0, 24));
  line.resize(24, ' ');
  double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  if (total > 0) {
    double frac = std::min(1.0, static_cast<double>(done) / total);
    int bar = std::max(10, width - 70);
    int filled = static_cast<int>(frac * bar);
    line +=
        " [" + std::string(filled, '#') + std::string(bar - filled, '-') + "] ";
    char pct[8];
    std::snprintf(pct, sizeof pct, "%3d%%", static_cast<int>(frac * 100));
    line += pct;
    line += " " + HumanBytes(done) + "/" + HumanBytes(total);
  } else {
    line += " " + HumanBytes(done);
  }
  line += "  " + HumanBytes(static_cast<uint64_t>(rate)) + "/s";
  if (total > 0 && rate > 0 && done < total) {
    auto left = static_cast<uint64_t>((total - done) / rate);
    char eta[32];
    std::snprintf(eta, sizeof eta, "  ETA %llu:%02llu",
                  static_cast<unsigned long long>(left / 60),
                  static_cast<unsigned long long>(left % 60));
    line += eta;
  }
  return line;
}

void TerminalProgressBar::Begin(std::string_view label, uint64_t total) {
  std::lock_guard lock(mu_);
  label_ = std::string(label);
  total_ = total;
  done_ = 0;
  active_ = true;
  start_ = std::chrono::steady_clock::now();
  last_draw_ = {};
  Draw(false);
}

void TerminalProgressBar::Update(uint64_t done) {
  std::lock_guard lock(mu_);
  done_ = done;
  auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ >= std::chrono::milliseconds(100)) Draw(false);
}

void TerminalProgressBar::End() {
  std::lock_guard lock(mu_);
  if (!active_) return;
  Draw(true);
  std::fputc('\n', out_);
  std::fflush(out_);
  active_ = false;
}

void TerminalProgressBar::Draw(bool final) {
  (void) final;
  last_draw_ = std::chrono::steady_clock::now();
  double seconds = std::chrono::duration<double>(last_draw_ - start_).count();
  int width = 100;
  struct winsize ws;
  if (ioctl(fileno(out_), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 40) {
    width = ws.ws_col;
  }
  std::string line = Render(label_, done_, total_, seconds, width);
  if (static_cast<int>(line.size()) > width - 1) line.resize(width - 1);
  std::fprintf(out_, "\r%s\x1b[K", line.c_str());
  std::fflush(out_);
}

}  // namespace ova2virt::cli
