#pragma once

#include "llm/upstream_call.hpp"

namespace chrysopedia::llm {

class CurlMulti;

/// Calls carried by libcurl: what the native client does not speak
/// (TLS, proxies from the environment, content encodings).
class CurlTransport final : public UpstreamTransport {
 public:
  explicit CurlTransport(CurlMulti& multi) : multi_(multi) {}
  std::unique_ptr<UpstreamCall> start(const CallRequest& request, CallEvents& events) override;

 private:
  CurlMulti& multi_;
};

}  // namespace chrysopedia::llm
