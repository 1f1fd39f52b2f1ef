// libFuzzer entry point for the VMDK readers (sparse, stream, descriptors).
// Build: cmake -DOVA2VIRT_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ ...
#include "convert/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ova2virt::FuzzVmdkReader(data, size);
  return 0;
}
