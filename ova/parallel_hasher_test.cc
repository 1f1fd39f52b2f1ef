#include "ova/parallel_hasher.h"

#include "ova/test_fixtures.h"

namespace ova2virt {
namespace {

TEST_CASE("parallel hasher: the same digests as one hasher at a time") {
  std::string data = testing::PatternBytes(3u << 20, 7);
  for (size_t n = 0; n <= kAllDigests.size(); ++n) {
    std::span<const DigestAlgorithm> algos(kAllDigests.data(), n);
    ParallelHasher parallel(algos);
    // Uneven pieces, an empty one among them.
    size_t pos = 0;
    for (size_t piece :
         {size_t{1}, size_t{0}, size_t{65536}, size_t{1000000}, data.size()}) {
      size_t take = std::min(piece, data.size() - pos);
      parallel.Update(AsBytes(std::string_view(data).substr(pos, take)));
      pos += take;
    }
    auto got = parallel.FinishHex();
    REQUIRE(got.size() == n);
    for (size_t i = 0; i < n; ++i) {
      CHECK(got[i].first == algos[i]);
      CHECK(got[i].second == DigestHex(algos[i], AsBytes(data)));
    }
  }
}

}  // namespace
}  // namespace ova2virt
