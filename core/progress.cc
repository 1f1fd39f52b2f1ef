#include "core/progress.h"

namespace ova2virt {

Progress& SilentProgress() {
  static NoProgress silent;
  return silent;
}

}  // namespace ova2virt
