#pragma once

#include "llm/upstream_exchange.hpp"

namespace chrysopedia::llm {

class CurlMulti;

/// Exchanges carried by libcurl: what the native client does not speak
/// (TLS, proxies from the environment, content encodings).
class CurlTransport final : public UpstreamTransport {
 public:
  explicit CurlTransport(CurlMulti& multi) : multi_(multi) {}
  std::unique_ptr<UpstreamExchange> start(const ExchangeRequest& request,
                                          ExchangeEvents& events) override;

 private:
  CurlMulti& multi_;
};

}  // namespace chrysopedia::llm
