// The devices besides storage and network: serial ports, USB, sound,
// video, TPM, display. Names come from domain_names (source spelling to
// libvirt's); a substitute is a warning.
#include "virtdriver/domain_devices.h"

#include <algorithm>

#include "virtdriver/domain_names.h"

namespace ova2virt {
namespace {

namespace names = domain_names;

void Warn(Diagnostics* d, std::string id, std::string where,
          std::string message) {
  if (d) d->Warn(std::move(id), std::move(where), std::move(message));
}

std::string Num(uint64_t v) { return std::to_string(v); }

void WriteVideo(XmlWriter& w, const VmSpec& vm, Diagnostics* diags) {
  Video v = vm.video.value_or(Video{"vga"});
  names::MappedName m = names::VideoModel(v.model);
  // An adapter that names no model (OVF's video items seldom do) gets the
  // default quietly: nothing the source asked for is lost.
  if (!m.exact && !v.model.empty()) {
    Warn(diags, "domain.video-substituted", "",
         "video " + Quote(v.model) + " becomes " + m.name);
  }
  w.Open("video").Open("model").Attr("type", m.name);
  if (v.vram_bytes && m.name != "virtio" && m.name != "ramfb") {
    // QEMU takes video memory in powers of two; keep it within what its
    // adapters accept (1 MiB .. 256 MiB).
    uint64_t kib = std::clamp<uint64_t>(*v.vram_bytes / 1024, 1024, 262144);
    uint64_t pow2 = 1024;
    while (pow2 < kib) pow2 *= 2;
    w.Attr("vram", Num(pow2));
  }
  if (v.heads && *v.heads > 1 && m.name != "qxl" && m.name != "virtio") {
    // QEMU's other adapters drive a single display.
    Warn(diags, "domain.video-heads-dropped", "",
         std::to_string(*v.heads) + " displays need qxl or virtio video; " +
             m.name + " drives one");
  } else if (v.heads && *v.heads > 0) {
    w.Attr("heads", Num(std::min(*v.heads, 16)));
  }
  w.Attr("primary", "yes");
  if (v.accel3d) {
    if (m.name == "virtio") {
      w.Open("acceleration").Attr("accel3d", "yes").Close();
    } else {
      Warn(diags, "domain.accel3d-dropped", "",
           "3d acceleration needs a virtio video device; " + m.name +
               " has none");
    }
  }
  w.Close().Close();
}

}  // namespace

void WriteUsbControllers(XmlWriter& w, const VmSpec& vm, Diagnostics* diags) {
  for (size_t i = 0; i < vm.usb_controllers.size(); ++i) {
    names::MappedName m = names::UsbModel(vm.usb_controllers[i].model);
    if (!m.exact) {
      Warn(diags, "domain.usb-substituted", "",
           "usb controller " + Quote(vm.usb_controllers[i].model) +
               " becomes " + m.name);
    }
    w.Open("controller").Attr("type", "usb").Attr("index", Num(i));
    w.Attr("model", m.name).Close();
  }
}

void WriteSerials(XmlWriter& w, const VmSpec& vm, const DomainOptions& o,
                  Diagnostics* diags) {
  size_t count = std::max<size_t>(1, vm.serial_ports.size());
  for (size_t i = 0; i < count; ++i) {
    bool to_file = i == 0 && !o.serial_log_path.empty();
    if (i < vm.serial_ports.size()) {
      const SerialPort& s = vm.serial_ports[i];
      bool as_file = to_file && !o.serial_pty_with_log;
      bool same =
          (s.type.empty() || s.type == "pty")
              ? !as_file
              : (as_file && s.type == "file" && s.target == o.serial_log_path);
      if (!same) {
        Warn(diags, "domain.serial-retargeted", "serial " + std::to_string(i),
             "host side " + Quote(s.type + ":" + s.target) + " becomes " +
                 (to_file ? "file " + Quote(o.serial_log_path)
                          : std::string("a pty")));
      }
    }
    bool pty_log = to_file && o.serial_pty_with_log;
    w.Open("serial").Attr("type", to_file && !pty_log ? "file" : "pty");
    if (to_file && !pty_log) {
      w.Open("source").Attr("path", o.serial_log_path).Close();
    }
    if (pty_log) {
      w.Open("log").Attr("file", o.serial_log_path).Attr("append", "off");
      w.Close();
    }
    w.Open("target").Attr("port", Num(i)).Close();
    w.Close();
  }
}

void WriteOtherDevices(XmlWriter& w, const VmSpec& vm, const DomainOptions& o,
                       bool q35, Diagnostics* diags) {
  if (!o.headless) {
    if (!vm.usb_controllers.empty()) {
      w.Open("input").Attr("type", "tablet").Attr("bus", "usb").Close();
    }
    w.Open("graphics").Attr("type", "vnc").Attr("port", "-1");
    w.Attr("autoport", "yes");
    w.Open("listen").Attr("type", "address").Attr("address", "127.0.0.1");
    w.Close().Close();
  }
  for (const SoundCard& s : vm.sound_cards) {
    names::MappedName m = names::SoundModel(s.model, q35);
    if (!m.exact) {
      Warn(diags, "domain.sound-substituted", "",
           "sound card " + Quote(s.model) + " becomes " + m.name);
    }
    w.Open("sound").Attr("model", m.name).Close();
  }
  WriteVideo(w, vm, diags);
  if (vm.tpm) {
    bool v2 = vm.tpm->version != "1.2";
    w.Open("tpm").Attr("model", v2 && q35 ? "tpm-crb" : "tpm-tis");
    w.Open("backend").Attr("type", "emulator");
    w.Attr("version", v2 ? "2.0" : "1.2").Close();
    w.Close();
  }
}

}  // namespace ova2virt
