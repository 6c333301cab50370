#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "chrysopedia/search/embedder.hpp"
#include "llm/curl_transport.hpp"
#include "llm/embeddings_response.hpp"

namespace chrysopedia::llm {

class CurlMulti;

struct EmbeddingsOptions {
  std::string url;  ///< base, e.g. http://localhost:11434/v1 (…/embeddings is added)
  std::string model;
  std::string api_key;
  int dimensions = 0;  ///< sent as "dimensions" when > 0 (OpenAI's text-embedding-3 models)
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds timeout{30'000};  ///< one request, whole
  std::size_t max_response = 256u << 20;      ///< a batch's vectors, in JSON
};

/// Embedder for any OpenAI-compatible /v1/embeddings (OpenAI, Ollama, vLLM,
/// llama.cpp), on the caller's event loop. One per event loop.
class OpenAiEmbeddingsClient final : public search::Embedder {
 public:
  OpenAiEmbeddingsClient(CurlMulti& multi, EmbeddingsOptions options);
  ~OpenAiEmbeddingsClient() override;

  boost::asio::awaitable<std::vector<std::vector<float>>> embed(
      std::vector<std::string> texts) override;
  const std::string& model() const override { return options_.model; }

 private:
  EmbeddingsOptions options_;
  CurlTransport curl_;
  std::unique_ptr<UpstreamTransport> native_;
  UpstreamTransport* transport_;
};

/// The vectors of an OpenAI embeddings response, put in input order by
/// each item's "index". Throws search::EmbeddingError when it is not one
/// vector of numbers for each of `count` inputs, all of one dimension.
std::vector<std::vector<float>> parse_embeddings_response(std::string_view body, std::size_t count);

}  // namespace chrysopedia::llm
