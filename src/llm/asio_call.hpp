#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>

#include "llm/http_url.hpp"
#include "llm/upstream_call.hpp"

namespace chrysopedia::llm {

class KeepAlivePool;

/// One POST and its streamed response straight on the loop's sockets (a
/// pooled keep-alive connection when there is a live one), run by a
/// coroutine; destroying the returned handle cancels it.
std::unique_ptr<UpstreamCall> start_asio_call(std::weak_ptr<KeepAlivePool> pool,
                                              boost::asio::io_context& ctx, HttpUrl url,
                                              const CallRequest& request, CallEvents& events);

}  // namespace chrysopedia::llm
