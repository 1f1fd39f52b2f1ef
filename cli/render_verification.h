// How a verification report appears in JSON (verify, import): the
// manifest, each file's result and the signature.
#ifndef OVA2VIRT_CLI_RENDER_VERIFICATION_H_
#define OVA2VIRT_CLI_RENDER_VERIFICATION_H_

#include <nlohmann/json.hpp>

#include "ova/verification.h"

namespace ova2virt::cli {

// {"manifest": {name, algorithm, algorithms} | null,
//  "files": [{name, status, listed, referenced, role, algorithm, expected,
//             actual}],
//  "signature": {present, member, valid, signed_file, ..., signer}}.
nlohmann::json VerificationJson(const VerificationReport& report);

}  // namespace ova2virt::cli

#endif  // OVA2VIRT_CLI_RENDER_VERIFICATION_H_
