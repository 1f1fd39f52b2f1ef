// libFuzzer entry point for the qcow2 reader.
// Build: cmake -DOVA2VIRT_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ ...
#include "convert/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ova2virt::FuzzQcow2Reader(data, size);
  return 0;
}
