#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "llm/upstream_exchange.hpp"

namespace chrysopedia::llm {

/// The parts of an http:// URL a request needs.
struct HttpUrl {
  std::string host;       ///< without brackets
  std::string port;       ///< "80" when none is given
  std::string target;     ///< path and query, "/" when none
  std::string authority;  ///< the Host header
};

/// nullopt unless `url` is plain http:// without credentials.
std::optional<HttpUrl> parse_http_url(std::string_view url);

/// HTTP/1.1 straight on the event loop's sockets, with keep-alive
/// connections reused. Local model servers (Ollama, vLLM, llama.cpp) speak
/// plain HTTP, and there each token is one read: through libcurl that read
/// cost three more system calls (its readiness poll, ours, and Asio
/// re-arming the edge-triggered wait), here none. TLS, proxies and content
/// encodings stay with libcurl (see handles()).
class AsioHttpTransport final : public UpstreamTransport {
 public:
  explicit AsioHttpTransport(boost::asio::io_context& ctx);
  ~AsioHttpTransport() override;

  /// Plain http:// with no proxy configured in the environment.
  static bool handles(std::string_view url);

  std::unique_ptr<UpstreamExchange> start(const ExchangeRequest& request,
                                          ExchangeEvents& events) override;

  struct Pool;

 private:
  std::shared_ptr<Pool> pool_;
};

}  // namespace chrysopedia::llm
