// Connection: domains (define, start, stop, undefine, state, XML).
#include <thread>

#include "core/cancel.h"
#include "virtdriver/connection_impl.h"
#include "virtdriver/libvirt_faults.h"

namespace ova2virt {
namespace {

using virt::LastError;
using virt::LastErrorCode;
using virt::TakeString;

DomainState MapState(int s) {
  switch (s) {
    case VIR_DOMAIN_NOSTATE:
      return DomainState::kNoState;
    case VIR_DOMAIN_RUNNING:
      return DomainState::kRunning;
    case VIR_DOMAIN_BLOCKED:
      return DomainState::kBlocked;
    case VIR_DOMAIN_PAUSED:
      return DomainState::kPaused;
    case VIR_DOMAIN_SHUTDOWN:
      return DomainState::kShutdown;
    case VIR_DOMAIN_SHUTOFF:
      return DomainState::kShutoff;
    case VIR_DOMAIN_CRASHED:
      return DomainState::kCrashed;
    case VIR_DOMAIN_PMSUSPENDED:
      return DomainState::kSuspended;
    default:
      return DomainState::kOther;
  }
}

bool IsMissing(int code) {
  return code == VIR_ERR_NO_DOMAIN || code == VIR_ERR_NO_STORAGE_POOL ||
         code == VIR_ERR_NO_STORAGE_VOL || code == VIR_ERR_NO_NETWORK;
}

}  // namespace

std::string_view ToString(DomainState s) {
  switch (s) {
    case DomainState::kNoState:
      return "nostate";
    case DomainState::kRunning:
      return "running";
    case DomainState::kBlocked:
      return "blocked";
    case DomainState::kPaused:
      return "paused";
    case DomainState::kShutdown:
      return "shutting-down";
    case DomainState::kShutoff:
      return "shut-off";
    case DomainState::kCrashed:
      return "crashed";
    case DomainState::kSuspended:
      return "suspended";
    case DomainState::kOther:
      break;
  }
  return "other";
}

// --- domains

Result<bool> LibvirtConnection::DomainExists(const std::string& name) {
  virt::DomainHandle d(virDomainLookupByName(impl_->conn(), name.c_str()));
  if (d) return true;
  if (LastErrorCode() == VIR_ERR_NO_DOMAIN) {
    virResetLastError();
    return false;
  }
  return LastError("domain " + Quote(name));
}

Result<std::string> LibvirtConnection::DefineDomain(const std::string& xml) {
  RETURN_IF_ERROR(InjectedLibvirtFault(LibvirtStep::kDefine, false,
                                       "cannot define the domain"));
  virt::DomainHandle d(virDomainDefineXMLFlags(impl_->conn(), xml.c_str(),
                                               VIR_DOMAIN_DEFINE_VALIDATE));
  if (!d && LastErrorCode() == VIR_ERR_NO_SUPPORT) {
    // An old driver without schema validation: define without it.
    virResetLastError();
    d.reset(virDomainDefineXML(impl_->conn(), xml.c_str()));
  }
  if (!d) return LastError("cannot define the domain");
  RETURN_IF_ERROR(InjectedLibvirtFault(LibvirtStep::kDefine, true,
                                       "cannot define the domain"));
  const char* name = virDomainGetName(d.get());
  return std::string(name ? name : "");
}

Status LibvirtConnection::StartDomain(const std::string& name, bool paused) {
  ASSIGN_OR_RETURN(virt::DomainHandle d, impl_->Domain(name));
  std::string where = "cannot start domain " + Quote(name);
  RETURN_IF_ERROR(InjectedLibvirtFault(LibvirtStep::kStart, false, where));
  unsigned flags = paused ? VIR_DOMAIN_START_PAUSED : 0;
  if (virDomainCreateWithFlags(d.get(), flags) < 0) return LastError(where);
  return InjectedLibvirtFault(LibvirtStep::kStart, true, where);
}

Status LibvirtConnection::ResumeDomain(const std::string& name) {
  ASSIGN_OR_RETURN(virt::DomainHandle d, impl_->Domain(name));
  if (virDomainResume(d.get()) < 0) {
    return LastError("cannot resume domain " + Quote(name));
  }
  return OkStatus();
}

Status LibvirtConnection::DestroyDomain(const std::string& name) {
  ASSIGN_OR_RETURN(virt::DomainHandle d, impl_->Domain(name));
  if (virDomainIsActive(d.get()) != 1) return OkStatus();
  if (virDomainDestroy(d.get()) < 0) {
    return LastError("cannot stop domain " + Quote(name));
  }
  return OkStatus();
}

Status LibvirtConnection::UndefineDomain(const std::string& name) {
  virt::DomainHandle d(virDomainLookupByName(impl_->conn(), name.c_str()));
  if (!d) {
    if (IsMissing(LastErrorCode())) {
      virResetLastError();
      return OkStatus();
    }
    return LastError("domain " + Quote(name));
  }
  std::string where = "cannot undefine domain " + Quote(name);
  RETURN_IF_ERROR(InjectedLibvirtFault(LibvirtStep::kUndefine, false, where));
  unsigned flags = VIR_DOMAIN_UNDEFINE_NVRAM |
                   VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                   VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                   VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA;
  if (virDomainUndefineFlags(d.get(), flags) < 0) {
    if (LastErrorCode() != VIR_ERR_NO_SUPPORT &&
        LastErrorCode() != VIR_ERR_INVALID_ARG) {
      return LastError(where);
    }
    virResetLastError();
    if (virDomainUndefine(d.get()) < 0) {
      return LastError(where);
    }
  }
  return InjectedLibvirtFault(LibvirtStep::kUndefine, true, where);
}

Result<DomainState> LibvirtConnection::GetDomainState(const std::string& name) {
  ASSIGN_OR_RETURN(virt::DomainHandle d, impl_->Domain(name));
  int state = 0, reason = 0;
  if (virDomainGetState(d.get(), &state, &reason, 0) < 0) {
    return LastError("domain " + Quote(name));
  }
  return MapState(state);
}

Result<std::string> LibvirtConnection::GetDomainXml(const std::string& name,
                                                    bool inactive) {
  ASSIGN_OR_RETURN(virt::DomainHandle d, impl_->Domain(name));
  std::string xml = TakeString(
      virDomainGetXMLDesc(d.get(), inactive ? VIR_DOMAIN_XML_INACTIVE : 0));
  if (xml.empty()) return LastError("domain " + Quote(name));
  return xml;
}

Status LibvirtConnection::WaitForShutoff(const std::string& name,
                                         std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    Result<DomainState> s = GetDomainState(name);
    // A transient domain that stopped is gone altogether.
    if (!s.ok() && s.status().code() == ErrorCode::kNotFound) return OkStatus();
    if (!s.ok()) return s.status();
    if (*s == DomainState::kShutoff || *s == DomainState::kCrashed) {
      return OkStatus();
    }
    RETURN_IF_ERROR(CheckCancelled());
    if (std::chrono::steady_clock::now() >= deadline) {
      return FailedError("domain " + Quote(name) + " still " +
                         std::string(ToString(*s)) + " after " +
                         std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace ova2virt
