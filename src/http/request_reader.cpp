#include "http/request_reader.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <boost/beast/http/error.hpp>

#include "common/ascii.hpp"

namespace chrysopedia::http {

namespace beast = boost::beast;
namespace bhttp = beast::http;

namespace {

// What one read may add to the buffer past the header limit: a header at
// its limit plus the start of the body may arrive in one read.
constexpr std::size_t kReadSlack = 4096;

// RFC 9110 §5.6.2: the characters of a token (a method, a coding).
bool is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

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
  // The parser is given the header only once it is whole, in one piece:
  // given part of it, Beast takes the request line and each complete
  // field as it goes, checks its limit per call rather than in total, and
  // unfolds obs-folded lines as it reads them. Whole, every rule below
  // holds for all of it whatever the reads' sizes.
  const auto bytes = view(buffer);
  const auto from = header_scanned_;
  // Something that is not HTTP at all (a TLS handshake, a stray protocol)
  // is told so at once, not after the request timeout: a method is a token.
  const auto method_end = std::min(bytes.find(' '), bytes.size());
  if (from < method_end || from == 0) {
    const auto method = bytes.substr(0, method_end);
    if (!std::all_of(method.begin(), method.end(), is_tchar)) {
      return reject(400, "bad_request",
                    "This is not an HTTP/1.1 request (is it TLS? this port speaks plain HTTP).");
    }
  }
  const auto end = bytes.find("\r\n\r\n", from >= 3 ? from - 3 : 0);
  const auto scan_to = end == std::string_view::npos ? bytes.size() : end + 4;
  if (scan_to > limits_.header_limit) {
    return reject(431, "headers_too_large",
                  fmt::format("The request headers are larger than the limit of {} bytes.",
                              limits_.header_limit));
  }
  // From the last byte checked: a line break there may only now be
  // followed by the space that folds it.
  for (auto at = bytes.find('\n', from > 0 ? from - 1 : 0);
       at != std::string_view::npos && at < scan_to; at = bytes.find('\n', at + 1)) {
    if (at == 0 || bytes[at - 1] != '\r') {
      return reject(400, "bad_request",
                    "A line of the request header ends without a carriage return; end each "
                    "line with CR LF.");
    }
    if (at + 1 < scan_to && (bytes[at + 1] == ' ' || bytes[at + 1] == '\t')) {
      return reject(400, "bad_request",
                    "A header field is continued on a second line (obs-fold, RFC 9112 §5.2); "
                    "send each field on one line.");
    }
  }
  header_scanned_ = scan_to;
  header_whole_ = end != std::string_view::npos;
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
  // Read here, not by Beast: its token list ends quietly at a malformed
  // element ("chunked junk", "chunked;q=1" read as "chunked"), and it
  // looks at only one field of several ("gzip" then "chunked").
  std::vector<std::string_view> codings;
  const auto [first, last] = h.equal_range(bhttp::field::transfer_encoding);
  for (auto field = first; field != last; ++field) {
    std::string_view list = field->value();
    for (;;) {
      const auto comma = list.find(',');
      codings.push_back(common::trim_ows(list.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  const bool malformed = std::any_of(codings.begin(), codings.end(), [](std::string_view c) {
    return c.empty() || !std::all_of(c.begin(), c.end(), is_tchar);
  });
  if (malformed || !common::ascii_iequals(codings.back(), "chunked")) {
    // Read as having no body, its body would be read as the next request.
    return reject(400, "bad_request",
                  "The Transfer-Encoding must be exactly chunked (RFC 9112 §6.3); send "
                  "\"Transfer-Encoding: chunked\" or Content-Length.");
  }
  if (codings.size() > 1) {
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
      if (!header_whole_) return need_more(buffer);
    }
    if (buffer.size() == 0 && !parser_.is_done()) return Step::need_more;
    boost::system::error_code ec;
    const auto n = parser_.put(buffer.data(), ec);
    buffer.consume(n);
    if (ec && ec != bhttp::error::need_more) return fail(ec);
    if (parser_.is_header_done() && !header_checked_) {
      if (auto refused = check_header()) return *refused;
      // An HTTP/1.0 client knows no 100 Continue (RFC 9110 §10.1.1).
      const auto& h = parser_.get();
      if (!parser_.is_done() && !continue_asked_ && h.version() >= 11 &&
          common::ascii_iequals(h[bhttp::field::expect], "100-continue")) {
        continue_asked_ = true;
        return Step::wants_continue;
      }
    }
    if (parser_.is_done()) return Step::done;
    if (ec == bhttp::error::need_more || n == 0) return need_more(buffer);
  }
}

RequestReader::Step RequestReader::need_more(const beast::flat_buffer& buffer) {
  if (room(buffer) > 0) return Step::need_more;
  // The parser holds a whole line (a chunk size with its extensions) or
  // the whole trailer in the buffer before it takes any of it.
  return parser_.is_header_done()
             ? reject(400, "bad_request",
                      fmt::format("A chunk-size line or the trailer of the request is longer "
                                  "than {} bytes.",
                                  buffer_limit(limits_)))
             : reject(431, "headers_too_large",
                      fmt::format("The request headers are larger than the limit of {} bytes.",
                                  limits_.header_limit));
}

RequestReader::Message RequestReader::release() {
  auto message = parser_.release();
  // Nothing sent after the body (a Host, a key) may read as a header.
  if (header_fields_)
    static_cast<boost::beast::http::fields&>(message) = std::move(*header_fields_);
  return message;
}

}  // namespace chrysopedia::http
