// For core's own OpenSSL users (digest.cc, crypto.cc) only: the OpenSSL
// digest for an algorithm, named once.
#ifndef OVA2VIRT_CORE_DIGEST_INTERNAL_H_
#define OVA2VIRT_CORE_DIGEST_INTERNAL_H_

#include "core/digest.h"

struct evp_md_st;  // OpenSSL's EVP_MD, kept out of project headers

namespace ova2virt {

const evp_md_st* EvpMdFor(DigestAlgorithm algorithm);

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_DIGEST_INTERNAL_H_
