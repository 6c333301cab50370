#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>

namespace chrysopedia::llm {

class CurlMulti;

/// An event loop's libcurl multi handle, which the loop's clients (chat
/// completions, embeddings) share. Made here so that the code which builds
/// them never includes libcurl: its types stay in this area.
std::shared_ptr<CurlMulti> make_curl_multi(boost::asio::io_context& ctx);

}  // namespace chrysopedia::llm
