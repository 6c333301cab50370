#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace chrysopedia::search {

/// The embeddings endpoint failed, answered out of shape, or was too slow.
/// The message is for logs and the operator.
class EmbeddingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Turns texts into vectors (an OpenAI-compatible /v1/embeddings behind it),
/// so the semantic search and the import can be tested with a fake.
class Embedder {
 public:
  virtual ~Embedder() = default;

  /// One vector per text, in the texts' order. Throws EmbeddingError;
  /// cancellable.
  virtual boost::asio::awaitable<std::vector<std::vector<float>>> embed(
      std::vector<std::string> texts) = 0;

  /// The model asked for (recorded beside the vectors).
  virtual const std::string& model() const = 0;
};

}  // namespace chrysopedia::search
