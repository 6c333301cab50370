// An embeddings endpoint's answer (issue 16): the vectors, one per input,
// of one dimension, finite, in input order; or an EmbeddingError. Never a
// crash or another exception, whatever the peer sends. The first byte says
// how many inputs were sent.

#include <cmath>
#include <cstdint>
#include <string_view>

#include "chrysopedia/search/embedder.hpp"
#include "fuzz_check.hpp"
#include "llm/embeddings_response.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t count = data[0] % 8;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    const auto vectors = chrysopedia::llm::parse_embeddings_response(body, count);
    FUZZ_CHECK(vectors.size() == count);
    for (const auto& v : vectors) {
      FUZZ_CHECK(!v.empty() && v.size() == vectors.front().size());
      for (float x : v) FUZZ_CHECK(std::isfinite(x));
    }
  } catch (const chrysopedia::search::EmbeddingError&) {
  }
  return 0;
}
