#include "llm/embeddings_response.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

#include "chrysopedia/search/embedder.hpp"

namespace chrysopedia::llm {

using Vectors = std::vector<std::vector<float>>;

Vectors parse_embeddings_response(std::string_view body, std::size_t count) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("data") || !j["data"].is_array()) {
    throw search::EmbeddingError("the embeddings endpoint's answer has no \"data\" list");
  }
  const auto& data = j["data"];
  if (data.size() != count) {
    throw search::EmbeddingError("the embeddings endpoint returned " + std::to_string(data.size()) +
                                 " vectors for " + std::to_string(count) + " texts");
  }
  Vectors out(count);
  std::size_t dimension = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const auto& item = data[i];
    const auto index_it = item.find("index");
    const std::size_t index =
        index_it != item.end() && index_it->is_number_unsigned() ? index_it->get<std::size_t>() : i;
    const auto vec = item.find("embedding");
    if (index >= count || !out[index].empty() || vec == item.end() || !vec->is_array() ||
        vec->empty()) {
      throw search::EmbeddingError("the embeddings endpoint's item " + std::to_string(i) +
                                   " has no vector for a distinct input");
    }
    if (dimension == 0) dimension = vec->size();
    if (vec->size() != dimension) {
      throw search::EmbeddingError("the embeddings endpoint returned vectors of dimensions " +
                                   std::to_string(dimension) + " and " +
                                   std::to_string(vec->size()) + " in one answer");
    }
    out[index].reserve(dimension);
    for (const auto& x : *vec) {
      if (!x.is_number()) {
        throw search::EmbeddingError("the embeddings endpoint's vector holds a non-number");
      }
      const auto value = x.get<double>();
      if (!std::isfinite(static_cast<float>(value))) {
        throw search::EmbeddingError("the embeddings endpoint's vector holds a non-finite number");
      }
      out[index].push_back(static_cast<float>(value));
    }
  }
  return out;
}

}  // namespace chrysopedia::llm
