// The user's terminal for an interactive console: raw mode while attached
// (restored however we leave), and keystrokes read without waiting.
#ifndef OVA2VIRT_CLI_TERMINAL_H_
#define OVA2VIRT_CLI_TERMINAL_H_

#include <termios.h>

#include <string>

#include "core/status.h"

namespace ova2virt::cli {

// Ctrl-], as in virsh console: leave the console.
inline constexpr char kDetachKey = 0x1d;

class RawTerminal {
 public:
  // Puts stdin in raw mode when it is a terminal (else does nothing).
  RawTerminal();
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

  // What was typed since the last call, without waiting; kCancelled when
  // the detach key was pressed. At the end of stdin, nothing more.
  Result<std::string> ReadTyped();

 private:
  bool raw_ = false;
  bool eof_ = false;
  struct termios saved_ {};
};

}  // namespace ova2virt::cli

#endif  // OVA2VIRT_CLI_TERMINAL_H_
