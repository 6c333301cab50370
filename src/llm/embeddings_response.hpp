#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace chrysopedia::llm {

/// The vectors of an OpenAI embeddings response, put in input order by
/// each item's "index". Throws search::EmbeddingError when it is not one
/// vector of finite numbers for each of `count` inputs, all of one dimension.
std::vector<std::vector<float>> parse_embeddings_response(std::string_view body, std::size_t count);

}  // namespace chrysopedia::llm
