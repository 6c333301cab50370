#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "llm/http_url.hpp"
#include "llm/upstream_call.hpp"

namespace chrysopedia::llm {

class KeepAlivePool;

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

  std::unique_ptr<UpstreamCall> start(const CallRequest& request, CallEvents& events) override;

 private:
  std::shared_ptr<KeepAlivePool> pool_;
};

}  // namespace chrysopedia::llm
