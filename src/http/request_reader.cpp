#include "http/request_reader.hpp"

#include <algorithm>
#include <string_view>

#include <fmt/format.h>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/rfc7230.hpp>

namespace chrysopedia::http {

namespace beast = boost::beast;
namespace bhttp = beast::http;

namespace {

// What one read may add to the buffer past the header limit: a header at
// its limit plus the start of the body may arrive in one read.
constexpr std::size_t kReadSlack = 4096;

std::string_view view(const beast::flat_buffer& buffer) {
  const auto data = buffer.data();
  return {static_cast<const char*>(data.data()), data.size()};
}

}  // namespace

RequestReader::RequestReader(const RequestLimits& limits) : limits_(limits) {
  parser_.header_limit(static_cast<std::uint32_t>(limits_.header_limit));
  parser_.body_limit(limits_.body_limit);
  parser_.on_chunk_header(on_chunk_header_);
}

std::size_t RequestReader::buffer_limit(const RequestLimits& limits) {
  return limits.header_limit + kReadSlack;
}

std::size_t RequestReader::room(const beast::flat_buffer& buffer) const {
  const auto limit = buffer_limit(limits_);
  return buffer.size() >= limit ? 0 : limit - buffer.size();
}

void RequestReader::ChunkHeaderBudget::operator()(std::uint64_t, beast::string_view extensions,
                                                  boost::system::error_code& ec) {
  // Extensions carry nothing we use, but each costs parsing: all of a
  // request's together are held to what its header may cost.
  reader->extension_bytes_ += extensions.size();
  if (reader->extension_bytes_ > reader->limits_.header_limit) {
    reader->extensions_over_ = true;
    ec = bhttp::error::bad_chunk_extension;
  }
}

RequestReader::Step RequestReader::reject(int status, std::string code, std::string message) {
  rejected_ = true;
  rejection_ = {status, std::move(code), std::move(message)};
  return Step::rejected;
}

std::optional<RequestReader::Step> RequestReader::check_header_bytes(
    const beast::flat_buffer& buffer) {
  // Beast parses a header only once it is whole, and unfolds obs-folded
  // lines as it does: they must be found in the raw bytes, before it.
  const auto bytes = view(buffer);
  const auto from = header_scanned_ >= 3 ? header_scanned_ - 3 : 0;
  const auto end = bytes.find("\r\n\r\n", from);
  const auto scan_to = end == std::string_view::npos ? bytes.size() : end + 2;
  for (auto at = bytes.find('\n', from); at != std::string_view::npos && at + 1 < scan_to;
       at = bytes.find('\n', at + 1)) {
    if (bytes[at + 1] == ' ' || bytes[at + 1] == '\t') {
      return reject(400, "bad_request",
                    "A header field is continued on a second line (obs-fold, RFC 9112 §5.2); "
                    "send each field on one line.");
    }
  }
  header_scanned_ = scan_to;
  return std::nullopt;
}

std::optional<RequestReader::Step> RequestReader::check_header() {
  header_checked_ = true;
  const auto& h = parser_.get();
  // Trailer fields land in the same container as the header, each after
  // the header's field of its name if there is one: keep the header as it
  // was, to put back once the body is read.
  if (parser_.chunked()) header_fields_ = static_cast<const bhttp::fields&>(h);
  const auto hosts = h.count(bhttp::field::host);
  if (h.version() >= 11 && hosts != 1) {
    return reject(400, "bad_request",
                  hosts == 0 ? "An HTTP/1.1 request needs a Host header."
                             : "The request has more than one Host header; send one.");
  }
  if (hosts > 1) return reject(400, "bad_request", "The request has more than one Host header.");
  const auto te = h.find(bhttp::field::transfer_encoding);
  if (te == h.end()) return std::nullopt;
  if (h.version() < 11) {
    return reject(400, "bad_request",
                  "Transfer-Encoding is not allowed in an HTTP/1.0 request (RFC 9112 §6.1); "
                  "send Content-Length.");
  }
  if (!parser_.chunked()) {
    // Read as having no body, its body would be read as the next request.
    return reject(400, "bad_request",
                  "The last Transfer-Encoding must be chunked (RFC 9112 §6.3); send "
                  "\"Transfer-Encoding: chunked\" or Content-Length.");
  }
  std::size_t codings = 0;
  for (const auto& coding : bhttp::token_list{te->value()}) {
    (void)coding;
    ++codings;
  }
  if (codings != 1) {
    return reject(501, "not_implemented",
                  "This server takes no transfer coding but chunked; send the body "
                  "uncompressed with \"Transfer-Encoding: chunked\" or Content-Length.");
  }
  return std::nullopt;
}

RequestReader::Step RequestReader::fail(const boost::system::error_code& ec) {
  if (ec == bhttp::error::body_limit) {
    // Refused at the header's end (Content-Length) or at a chunk's size:
    // either way the head is whole, and says where the request was going.
    head_read_ = true;
    return reject(
        413, "payload_too_large",
        fmt::format("The request body is larger than the limit of {} bytes.", limits_.body_limit));
  }
  if (ec == bhttp::error::header_limit) {
    return reject(431, "headers_too_large",
                  fmt::format("The request headers are larger than the limit of {} bytes.",
                              limits_.header_limit));
  }
  if (extensions_over_) {
    return reject(400, "bad_request",
                  fmt::format("The request's chunk extensions add up to more than {} bytes; "
                              "send chunks without extensions.",
                              limits_.header_limit));
  }
  return reject(400, "bad_request", "The request is not valid HTTP/1.1: " + ec.message() + ".");
}

RequestReader::Step RequestReader::parse(beast::flat_buffer& buffer) {
  if (rejected_) return Step::rejected;
  for (;;) {
    if (buffer.size() > 0) started_ = true;
    if (!parser_.is_header_done()) {
      if (auto refused = check_header_bytes(buffer)) return *refused;
    }
    if (buffer.size() == 0 && !parser_.is_done()) return Step::need_more;
    boost::system::error_code ec;
    const auto n = parser_.put(buffer.data(), ec);
    buffer.consume(n);
    if (ec && ec != bhttp::error::need_more) return fail(ec);
    if (parser_.is_header_done() && !header_checked_) {
      if (auto refused = check_header()) return *refused;
      if (!parser_.is_done() && !continue_asked_ &&
          beast::iequals(parser_.get()[bhttp::field::expect], "100-continue")) {
        continue_asked_ = true;
        return Step::wants_continue;
      }
    }
    if (parser_.is_done()) return Step::done;
    if (ec == bhttp::error::need_more || n == 0) {
      if (room(buffer) == 0) {
        // The parser holds a whole line (a chunk size with its extensions)
        // or the whole trailer in the buffer before it takes any of it.
        return parser_.is_header_done()
                   ? reject(400, "bad_request",
                            fmt::format("A chunk-size line or the trailer of the request is "
                                        "longer than {} bytes.",
                                        buffer_limit(limits_)))
                   : reject(431, "headers_too_large",
                            fmt::format("The request headers are larger than the limit of {} "
                                        "bytes.",
                                        limits_.header_limit));
      }
      return Step::need_more;
    }
  }
}

RequestReader::Message RequestReader::release() {
  auto message = parser_.release();
  // Nothing sent after the body (a Host, a key) may read as a header.
  if (header_fields_)
    static_cast<boost::beast::http::fields&>(message) = std::move(*header_fields_);
  return message;
}

}  // namespace chrysopedia::http
