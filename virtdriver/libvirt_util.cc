#include "virtdriver/libvirt_util.h"

#include <cstdlib>
#include <mutex>

namespace ova2virt::virt {
namespace {

void SilentErrorHandler(void*, virErrorPtr) {}

ErrorCode MapCode(int code) {
  switch (code) {
    case VIR_ERR_NO_DOMAIN:
    case VIR_ERR_NO_STORAGE_POOL:
    case VIR_ERR_NO_STORAGE_VOL:
    case VIR_ERR_NO_NETWORK:
    case VIR_ERR_NO_INTERFACE:
    case VIR_ERR_NO_CONNECT:
      return ErrorCode::kNotFound;
    case VIR_ERR_NO_SUPPORT:
    case VIR_ERR_CONFIG_UNSUPPORTED:
      return ErrorCode::kUnsupported;
    case VIR_ERR_DOM_EXIST:
    case VIR_ERR_STORAGE_VOL_EXIST:
      return ErrorCode::kExists;
    default:
      return ErrorCode::kFailed;
  }
}

}  // namespace

void InitLibvirt() {
  static std::once_flag once;
  std::call_once(once, [] {
    // libvirt's own log (the embedded QEMU driver's "info"/"warning" lines)
    // would go to stderr, beside our one-line errors, which already carry
    // every libvirt error. Whoever wants it sets LIBVIRT_LOG_OUTPUTS.
    setenv("LIBVIRT_LOG_OUTPUTS", "1:file:/dev/null", /*overwrite=*/0);
    virInitialize();
    virSetErrorFunc(nullptr, SilentErrorHandler);
  });
}

int LastErrorCode() {
  virErrorPtr e = virGetLastError();
  return e ? e->code : VIR_ERR_OK;
}

Status LastError(std::string_view what) {
  virErrorPtr e = virGetLastError();
  std::string msg = e && e->message ? e->message : "unknown libvirt error";
  ErrorCode code = e ? MapCode(e->code) : ErrorCode::kFailed;
  virResetLastError();
  // One line, lower case first letter, like every other message.
  for (char& c : msg) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (!msg.empty() && msg[0] >= 'A' && msg[0] <= 'Z' &&
      (msg.size() < 2 || !(msg[1] >= 'A' && msg[1] <= 'Z'))) {
    msg[0] = static_cast<char>(msg[0] - 'A' + 'a');
  }
  return Status(code, std::string(what) + ": " + msg);
}

std::string TakeString(char* s) {
  if (!s) return "";
  std::string out(s);
  free(s);
  return out;
}

}  // namespace ova2virt::virt
