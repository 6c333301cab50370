#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace chrysopedia::http {

/// What a request may cost before a handler sees it.
struct RequestLimits {
  std::size_t header_limit = 16 * 1024;  ///< request line and header fields
  std::size_t body_limit = 64 * 1024;    ///< the body, after any chunked framing
};

/// Why a request was refused before any handler saw it: the answer
/// (status, code, words a client can act on) and a reason for the log.
struct Rejection {
  int status = 400;
  std::string code;
  std::string message;
};

/// Reads one HTTP/1.1 request out of the bytes a connection has received,
/// with no I/O of its own (the session feeds it; the fuzzer does too), so
/// that every byte a client sends counts against a limit before it costs
/// memory: the header against `header_limit`; a chunk-size line, with its
/// extensions, and the trailer against the read buffer's bound (the
/// parser holds each whole in the buffer); all chunk extensions of a
/// request together against `header_limit`; the body against `body_limit`.
/// It refuses what RFC 9112 says a server must (or what would let a request
/// be read two ways): a `Transfer-Encoding` that does not end in `chunked`,
/// or any on HTTP/1.0; no `Host` or two on HTTP/1.1; obs-folded fields.
/// Trailer fields are read and dropped, never merged into the header.
class RequestReader {
 public:
  using Message = boost::beast::http::request<boost::beast::http::string_body>;

  explicit RequestReader(const RequestLimits& limits);
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  /// The most a connection's read buffer may hold: a request that needs a
  /// longer line than this to go on is refused.
  static std::size_t buffer_limit(const RequestLimits& limits);

  enum class Step {
    need_more,       ///< read more into the buffer (at most room() bytes)
    wants_continue,  ///< the client waits for `100 Continue` before its body
    done,            ///< release() the request
    rejected,        ///< answer rejection() and close the connection
  };

  /// Parses what `buffer` holds, consuming what the parser took.
  Step parse(boost::beast::flat_buffer& buffer);

  /// True once any byte of the request has arrived.
  bool started() const { return started_; }

  /// How many more bytes `buffer` may take before it is full.
  std::size_t room(const boost::beast::flat_buffer& buffer) const;

  /// The request line and fields once the header is parsed (even when the
  /// request was then refused, e.g. for its body's size).
  bool header_done() const { return parser_.is_header_done() || head_read_; }
  const Message& head() const { return parser_.get(); }

  const Rejection& rejection() const { return rejection_; }

  /// The whole request, after Step::done.
  Message release();

 private:
  Step reject(int status, std::string code, std::string message);
  std::optional<Step> check_header_bytes(const boost::beast::flat_buffer& buffer);
  std::optional<Step> check_header();
  Step fail(const boost::system::error_code& ec);
  Step need_more(const boost::beast::flat_buffer& buffer);

  struct ChunkHeaderBudget {
    RequestReader* reader;
    void operator()(std::uint64_t size, boost::beast::string_view extensions,
                    boost::system::error_code& ec);
  };

  RequestLimits limits_;
  boost::beast::http::request_parser<boost::beast::http::string_body> parser_;
  ChunkHeaderBudget on_chunk_header_{this};
  std::size_t extension_bytes_ = 0;
  bool extensions_over_ = false;
  std::size_t header_scanned_ = 0;  // bytes of the unparsed header already checked
  bool header_whole_ = false;  // its end is in the buffer                           // bytes of the
                               // header already searched
  std::optional<boost::beast::http::fields> header_fields_;  // a chunked request's, before trailers
  bool header_checked_ = false;
  bool head_read_ = false;  // whole, though the parser stopped on its Content-Length
  bool continue_asked_ = false;
  bool started_ = false;
  bool rejected_ = false;
  Rejection rejection_;
};

}  // namespace chrysopedia::http
