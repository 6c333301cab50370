#include "llm/http_transport.hpp"

#include <cstdlib>

#include "llm/asio_call.hpp"
#include "llm/keep_alive_pool.hpp"

namespace chrysopedia::llm {

namespace {

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v && *v;
}

}  // namespace

bool AsioHttpTransport::handles(std::string_view url) {
  // curl reads these; a proxy between us and the model is its business.
  if (env_set("http_proxy") || env_set("all_proxy") || env_set("ALL_PROXY")) return false;
  return parse_http_url(url).has_value();
}

AsioHttpTransport::AsioHttpTransport(boost::asio::io_context& ctx)
    : pool_(std::make_shared<KeepAlivePool>(ctx)) {}

AsioHttpTransport::~AsioHttpTransport() = default;

std::unique_ptr<UpstreamCall> AsioHttpTransport::start(const CallRequest& request,
                                                       CallEvents& events) {
  auto url = parse_http_url(request.url);  // the caller asked handles() first
  return start_asio_call(pool_, pool_->context(), std::move(*url), request, events);
}

}  // namespace chrysopedia::llm
