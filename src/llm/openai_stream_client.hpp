#pragma once

#include <chrono>
#include <string>

#include "chrysopedia/llm/llm_client.hpp"
#include "llm/curl_transport.hpp"

namespace chrysopedia::llm {

struct OpenAiOptions {
  std::string url;  ///< base, e.g. https://api.openai.com/v1 (…/chat/completions is added)
  std::string api_key;
  std::string fallback_url;  ///< tried when the primary fails before any token; may be empty
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};    ///< longest silence between bytes
  std::chrono::milliseconds total_timeout{600'000};  ///< whole completion
  int max_retries = 2;                               ///< before the first token only
  std::chrono::milliseconds retry_base{500};
  std::size_t max_line = 1 << 20;
  /// Every request through libcurl, plain http:// included (tests of the
  /// curl path; an escape hatch).
  bool curl_only = false;
};

/// LlmClient for any OpenAI-compatible server (OpenAI, Ollama, vLLM,
/// llama.cpp), streaming on the caller's event loop: plain http:// on the
/// loop's own sockets (AsioHttpTransport), https:// and proxied requests
/// through libcurl. One per event loop: it shares that loop's CurlMulti,
/// and so its connections.
class OpenAiStreamClient final : public LlmClient {
 public:
  OpenAiStreamClient(CurlMulti& multi, OpenAiOptions options);
  ~OpenAiStreamClient() override;
  std::unique_ptr<CompletionStream> start(const CompletionRequest& request) override;

 private:
  boost::asio::io_context& ctx_;
  OpenAiOptions options_;
  CurlTransport curl_;
  std::unique_ptr<UpstreamTransport> native_;  // made when a URL needs it
  UpstreamTransport* primary_;
  UpstreamTransport* fallback_;
};

/// The JSON body of a streaming chat-completion request (SPEC §4).
std::string completion_body(const CompletionRequest& request);

}  // namespace chrysopedia::llm
