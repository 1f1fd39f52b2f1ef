#include "cli/terminal.h"

#include <poll.h>
#include <unistd.h>

namespace ova2virt::cli {

RawTerminal::RawTerminal() {
  if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_) != 0) return;
  struct termios raw = saved_;
  cfmakeraw(&raw);
  // Keep output processing: the guest's "\n" still returns the carriage.
  raw.c_oflag |= OPOST | ONLCR;
  if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0) raw_ = true;
}

RawTerminal::~RawTerminal() {
  if (raw_) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
}

Result<std::string> RawTerminal::ReadTyped() {
  std::string typed;
  while (!eof_) {
    struct pollfd p = {STDIN_FILENO, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP))) break;
    char buf[256];
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) {
      eof_ = true;  // stdin closed: the guest still runs, input is over
      break;
    }
    typed.append(buf, static_cast<size_t>(n));
  }
  if (typed.find(kDetachKey) != std::string::npos) {
    return CancelledError("detached from the console");
  }
  return typed;
}

}  // namespace ova2virt::cli
