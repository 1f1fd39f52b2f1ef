// A domain's serial console as a byte stream in both directions (what
// `virsh console` uses): for `ova2virt run --console`.
#ifndef OVA2VIRT_VIRTDRIVER_CONSOLE_H_
#define OVA2VIRT_VIRTDRIVER_CONSOLE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/status.h"

namespace ova2virt {

class Connection;

class Console {
 public:
  virtual ~Console() = default;
  // Bytes the guest wrote, without waiting: 0 when there are none now.
  // kNotFound-free end: `closed()` turns true when the console went away
  // (the guest powered off).
  virtual Result<size_t> ReadAvailable(std::span<uint8_t> out) = 0;
  // Sends keystrokes to the guest.
  virtual Status Write(std::span<const uint8_t> data) = 0;
  virtual bool closed() const = 0;
};

// Connection::OpenConsole() opens one: the first serial console of a
// running domain (a pty serial port), taken over from any other client.

}  // namespace ova2virt

#endif  // OVA2VIRT_VIRTDRIVER_CONSOLE_H_
