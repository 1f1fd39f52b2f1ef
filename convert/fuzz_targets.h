// The bodies of the libFuzzer entry points (vmdk_reader_fuzz.cc,
// qcow2_reader_fuzz.cc), kept in the library so that fuzz_replay_test.cc
// can run the same code over seeds and mutations as an ordinary test.
#ifndef OVA2VIRT_CONVERT_FUZZ_TARGETS_H_
#define OVA2VIRT_CONVERT_FUZZ_TARGETS_H_

#include <cstddef>
#include <cstdint>

namespace ova2virt {

// Opens `data` as a VMDK (in place and as a stream, with extents resolving
// to the same bytes) and reads every run. Traps if a reader breaks its
// promises (a run outside the capacity); errors are fine.
void FuzzVmdkReader(const uint8_t* data, size_t size);
// The same for qcow2 (in place only: qcow2 needs random access).
void FuzzQcow2Reader(const uint8_t* data, size_t size);

}  // namespace ova2virt

#endif  // OVA2VIRT_CONVERT_FUZZ_TARGETS_H_
