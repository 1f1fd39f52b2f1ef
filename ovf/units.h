// Programmatic units (DSP0004 Annex C) as OVF producers write them in
// rasd:AllocationUnits and ovf:capacityAllocationUnits: "byte * 2^20",
// "byte*2^30", "bytes", and the informal names VirtualBox and others use
// ("MegaBytes", "MB", "GigaBytes", "KB", "KiloBytes").
#ifndef OVA2VIRT_OVF_UNITS_H_
#define OVA2VIRT_OVF_UNITS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ova2virt {

// How many bytes one unit is. kCorrupt for a unit that is not a byte
// multiple we understand, or one whose multiplier overflows 64 bits
// ("byte * 2^80"); the message quotes the unit.
Result<uint64_t> ParseByteUnits(std::string_view units);

// A non-negative decimal integer (surrounding white space allowed, nothing
// else). nullopt for anything else, including overflow.
std::optional<uint64_t> ParseDecimal(std::string_view text);

// `quantity` (decimal text) times the byte multiplier of `units`. kCorrupt
// when either is malformed or the product overflows 64 bits; `what` names
// the value in messages ("memory of item 2").
Result<uint64_t> ScaleToBytes(std::string_view quantity, std::string_view units,
                              std::string_view what);

// The spelling the writer uses for a byte count: the largest power-of-two
// unit that divides it exactly, among bytes, 2^10, 2^20 and 2^30. Sets
// `*quantity` and returns the unit ("byte * 2^20"), or "byte".
std::string ChooseByteUnits(uint64_t bytes, uint64_t* quantity);

}  // namespace ova2virt

#endif  // OVA2VIRT_OVF_UNITS_H_
