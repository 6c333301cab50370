// The server's request path without sockets: RequestReader fed the way
// Session::read_request feeds it (reads of at most min(4096, room()) bytes
// into one flat_buffer, a new reader for each pipelined request on the same
// buffer, 100-continue answered and parsing resumed, a rejection ends the
// connection). Whatever the bytes and however they are split across reads:
// the buffer stays within its bound; a rejection is a 400/413/431/501 with
// a code and a message, and stays one; a request handed on has a header
// and a body within their limits, one Host (HTTP/1.1), no obs-fold, no
// Transfer-Encoding but exactly "chunked", no trailer fields, and ends
// where an independent reading of its framing says it ends (so the next
// request starts there). The same bytes read 4096 at a time give the same
// requests.
//
// Input: 2 bytes seeding the split points, 1 byte choosing the limits (the
// small ones make every limit reachable with short inputs), then the bytes
// the client sends.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/core/flat_buffer.hpp>

#include "fuzz_check.hpp"
#include "http/request_reader.hpp"

using chrysopedia::fuzz::Rng;
using chrysopedia::http::RequestLimits;
using chrysopedia::http::RequestReader;
using Step = RequestReader::Step;
namespace bhttp = boost::beast::http;

namespace {

constexpr std::size_t kReadChunk = 4096;  // Session's read size
constexpr int kMaxRequests = 64;

// --- An independent reading of a request's framing (RFC 9112), used only
// on requests the reader accepted: where the header ends, what its lines
// say, where the body ends and what it holds.

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Our own: Boost 1.81's beast::iequals reads a byte past the end of both
// strings when they are equal but for case.
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct RawField {
  std::string_view name, value;
};

struct RawHead {
  std::string_view method, target, version;
  std::vector<RawField> fields;
  std::size_t end = 0;  // just past the blank line
};

// The header at the start of `bytes`, split on CRLF and the first colon.
RawHead read_head(std::string_view bytes) {
  RawHead h;
  const auto eom = bytes.find("\r\n\r\n");
  FUZZ_CHECK(eom != std::string_view::npos);  // a request was handed on: its header is whole
  h.end = eom + 4;
  std::string_view rest = bytes.substr(0, eom + 2);
  // No line of it continues the one before (obs-fold).
  for (auto at = rest.find('\n'); at != std::string_view::npos && at + 1 < rest.size();
       at = rest.find('\n', at + 1)) {
    FUZZ_CHECK(rest[at + 1] != ' ' && rest[at + 1] != '\t');
  }
  const auto line_end = rest.find("\r\n");
  const std::string_view line = rest.substr(0, line_end);
  rest.remove_prefix(line_end + 2);
  const auto sp1 = line.find(' ');
  const auto sp2 = line.find(' ', sp1 + 1);
  FUZZ_CHECK(sp1 != std::string_view::npos && sp2 != std::string_view::npos);
  h.method = line.substr(0, sp1);
  h.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  h.version = line.substr(sp2 + 1);
  while (!rest.empty()) {
    const auto end = rest.find("\r\n");
    const std::string_view field = rest.substr(0, end);
    rest.remove_prefix(end + 2);
    const auto colon = field.find(':');
    FUZZ_CHECK(colon != std::string_view::npos);
    // In the order Beast's container keeps: a field goes after the last
    // one of its name, if any, else at the end.
    const RawField raw{field.substr(0, colon), trim(field.substr(colon + 1))};
    auto at = h.fields.end();
    for (auto it = h.fields.begin(); it != h.fields.end(); ++it) {
      if (iequals(it->name, raw.name)) at = it + 1;
    }
    h.fields.insert(at, raw);
  }
  return h;
}

struct Framing {
  std::string body;
  std::size_t end = 0;  // just past the request, from the start of its header
};

// The body as chunked framing reads it, from `at` (just past the header).
Framing read_chunked(std::string_view bytes, std::size_t at) {
  Framing f;
  for (;;) {
    std::uint64_t size = 0;
    std::size_t digits = 0;
    for (int d; at + digits < bytes.size() && (d = hex_digit(bytes[at + digits])) >= 0; ++digits) {
      FUZZ_CHECK(size >> 60 == 0);  // an accepted chunk size fits
      size = size << 4 | static_cast<unsigned>(d);
    }
    FUZZ_CHECK(digits > 0);
    const auto line_end = bytes.find("\r\n", at);
    FUZZ_CHECK(line_end != std::string_view::npos);
    if (size == 0) {
      // The last chunk, then trailer fields up to a blank line.
      const auto eom = bytes.find("\r\n\r\n", line_end);
      FUZZ_CHECK(eom != std::string_view::npos);
      f.end = eom + 4;
      return f;
    }
    const std::size_t data = line_end + 2;
    FUZZ_CHECK(size <= bytes.size() && data + size + 2 <= bytes.size());
    f.body.append(bytes.substr(data, size));
    FUZZ_CHECK(bytes.substr(data + size, 2) == "\r\n");
    at = data + size + 2;
  }
}

// Checks a request the reader handed on, against the bytes from where its
// header began; returns how many of them it was.
std::size_t check_done(const RequestReader::Message& req, std::string_view bytes,
                       const RequestLimits& limits) {
  // One Host on HTTP/1.1, none twice on HTTP/1.0.
  const auto hosts = req.count(bhttp::field::host);
  if (req.version() >= 11) {
    FUZZ_CHECK(hosts == 1);
  } else {
    FUZZ_CHECK(hosts <= 1);
  }
  FUZZ_CHECK(req.body().size() <= limits.body_limit);
  // Transfer-Encoding: absent, or one field that is exactly "chunked"
  // (on HTTP/1.1), and then no Content-Length to disagree with it.
  const auto te = req.equal_range(bhttp::field::transfer_encoding);
  const auto te_fields = static_cast<std::size_t>(std::distance(te.first, te.second));
  FUZZ_CHECK(te_fields <= 1);
  if (te_fields == 1) {
    FUZZ_CHECK(iequals(te.first->value(), "chunked"));
    FUZZ_CHECK(req.version() >= 11);
    FUZZ_CHECK(req.count(bhttp::field::content_length) == 0);
  }

  // What the bytes say: the request line and the header's fields, exactly
  // (so no trailer field was merged in), and the body.
  const RawHead head = read_head(bytes);
  // RequestLimits::header_limit: the request line and the fields, however
  // they arrived.
  FUZZ_CHECK(head.end <= limits.header_limit);
  FUZZ_CHECK(req.method_string() == head.method);
  FUZZ_CHECK(req.target() == head.target);
  FUZZ_CHECK(head.version.size() == 8 && head.version.starts_with("HTTP/"));
  FUZZ_CHECK(static_cast<int>(req.version()) ==
             (head.version[5] - '0') * 10 + (head.version[7] - '0'));
  std::size_t i = 0;
  std::optional<std::string_view> content_length;
  bool chunked = false;
  for (const auto& field : req) {
    FUZZ_CHECK(i < head.fields.size());
    FUZZ_CHECK(field.name_string() == head.fields[i].name);
    FUZZ_CHECK(field.value() == head.fields[i].value);
    if (iequals(head.fields[i].name, "Content-Length")) content_length = head.fields[i].value;
    if (iequals(head.fields[i].name, "Transfer-Encoding")) chunked = true;
    ++i;
  }
  FUZZ_CHECK(i == head.fields.size());
  if (chunked) {
    const Framing f = read_chunked(bytes, head.end);
    FUZZ_CHECK(req.body() == f.body);
    return f.end;
  }
  std::uint64_t length = 0;
  if (content_length) {
    // A list of equal values ("5, 5") is one length: take the first.
    const std::string_view first = trim(content_length->substr(0, content_length->find(',')));
    FUZZ_CHECK(!first.empty());
    for (char c : first) {
      FUZZ_CHECK(c >= '0' && c <= '9');
      FUZZ_CHECK(length <= (UINT64_MAX - 9) / 10);
      length = length * 10 + static_cast<unsigned>(c - '0');
    }
  }
  FUZZ_CHECK(length <= limits.body_limit);
  FUZZ_CHECK(head.end + length <= bytes.size());
  FUZZ_CHECK(req.body() == bytes.substr(head.end, length));
  return head.end + length;
}

// --- The session's read loop.

// Sizes of successive reads: what one read_some returns (1..4096).
struct Pieces {
  std::optional<Rng> rng;  // none: every read as large as the session asks
  std::size_t next() {
    if (!rng) return kReadChunk;
    const unsigned r = rng->next();
    switch (r & 3) {
      case 0:
        return 1;
      case 1:
        return 1 + (r >> 2) % 16;
      case 2:
        return 1 + (r >> 2) % 512;
      default:
        return 1 + (r >> 2) % kReadChunk;
    }
  }
};

enum class End { idle, incomplete, rejected, enough };

struct Outcome {
  std::vector<std::string> requests;  // each one handed on, in a comparable form
  End end = End::idle;
};

std::string summary(const RequestReader::Message& req) {
  std::string s(req.method_string());
  s += ' ';
  s += req.target();
  s += ' ' + std::to_string(req.version()) + '\n';
  for (const auto& field : req) {
    s += field.name_string();
    s += ": ";
    s += field.value();
    s += '\n';
  }
  s += '\n';
  s += req.body();
  return s;
}

Outcome run(std::string_view stream, const RequestLimits& limits, Pieces pieces) {
  const std::size_t limit = RequestReader::buffer_limit(limits);
  boost::beast::flat_buffer buffer;
  std::size_t fed = 0;  // bytes of the stream read into the buffer so far
  Outcome out;

  // One async_read_some: the session prepares min(4096, room()) and the
  // socket delivers 1..that many bytes; false when the client sends no more.
  const auto read_some = [&](const RequestReader& reader) {
    const std::size_t room = reader.room(buffer);
    FUZZ_CHECK(room > 0);  // else the read would complete at once, empty, forever
    if (fed == stream.size()) return false;
    const std::size_t asked = std::min(kReadChunk, room);
    const auto space = buffer.prepare(asked);
    const std::size_t n = std::min({asked, pieces.next(), stream.size() - fed});
    std::memcpy(space.data(), stream.data() + fed, n);
    buffer.commit(n);
    fed += n;
    FUZZ_CHECK(buffer.size() <= limit);
    FUZZ_CHECK(buffer.capacity() <= 2 * limit);
    return true;
  };

  for (int k = 0; k < kMaxRequests; ++k) {
    const std::size_t start = fed - buffer.size();  // where this request's bytes begin
    RequestReader reader(limits);
    FUZZ_CHECK(!reader.started());
    if (buffer.size() == 0 && !read_some(reader)) return out;  // End::idle
    bool continued = false;
    for (;;) {
      const Step step = reader.parse(buffer);
      FUZZ_CHECK(buffer.size() <= limit);
      FUZZ_CHECK(reader.started());
      if (step == Step::done) break;
      if (step == Step::rejected) {
        const auto& why = reader.rejection();
        // 408 is the session's own (a timeout), never the reader's.
        FUZZ_CHECK(why.status == 400 || why.status == 413 || why.status == 431 ||
                   why.status == 501);
        FUZZ_CHECK(!why.code.empty());
        FUZZ_CHECK(!why.message.empty());
        if (why.status == 413) FUZZ_CHECK(reader.header_done());
        if (reader.header_done()) {
          // The session reads the head to count the rejection under its route.
          const auto& head = reader.head();
          (void)head.target().substr(0, head.target().find('?'));
          (void)head.method_string();
          (void)head[bhttp::field::origin];
        }
        // It stays refused, whatever else arrives.
        const int status = why.status;
        const std::string code = why.code;
        FUZZ_CHECK(reader.parse(buffer) == Step::rejected);
        if (reader.room(buffer) > 0 && fed < stream.size()) {
          const std::size_t n = std::min({reader.room(buffer), stream.size() - fed});
          const auto space = buffer.prepare(n);
          std::memcpy(space.data(), stream.data() + fed, n);
          buffer.commit(n);
          fed += n;
        }
        FUZZ_CHECK(reader.parse(buffer) == Step::rejected);
        FUZZ_CHECK(reader.rejection().status == status && reader.rejection().code == code);
        out.end = End::rejected;
        return out;
      }
      if (step == Step::wants_continue) {
        // Asked once per request, with the header read and the body not.
        FUZZ_CHECK(!continued);
        continued = true;
        FUZZ_CHECK(reader.header_done());
        FUZZ_CHECK(iequals(reader.head()[bhttp::field::expect], "100-continue"));
        continue;
      }
      FUZZ_CHECK(step == Step::need_more);
      if (!read_some(reader)) {
        out.end = End::incomplete;  // the session would time out (408) or see the close
        return out;
      }
    }
    const auto req = reader.release();
    const std::size_t length = check_done(req, stream.substr(start), limits);
    FUZZ_CHECK(length > 0);
    // The next request starts right after this one.
    FUZZ_CHECK(fed - buffer.size() == start + length);
    out.requests.push_back(summary(req));
    if (buffer.size() == 0) buffer.shrink_to_fit();
  }
  out.end = End::enough;
  return out;
}

RequestLimits limits_for(std::uint8_t selector) {
  switch (selector % 4) {
    case 0:
      return {};  // the service's defaults
    case 1:
      return {1024, 2048};
    case 2:
      return {256, 64};
    default:
      return {1024, 0};  // no body at all
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const Rng rng{(static_cast<unsigned>(data[0]) << 8 | data[1]) + 1u};
  const RequestLimits limits = limits_for(data[2]);
  const std::string_view stream(reinterpret_cast<const char*>(data) + 3, size - 3);

  const Outcome split = run(stream, limits, Pieces{rng});
  const Outcome whole = run(stream, limits, Pieces{});
  // How the bytes arrived changes no request, nor how the connection ends,
  // but for two things Beast does by design. A header whose end has not
  // arrived is checked field by field only on the first put() that sees
  // its start, later ones wait for the blank line: a bad field in an
  // unfinished header is refused at once when it arrived with that start,
  // else the request is still unfinished when the input ends. And a
  // refusal's reason may differ (an obs-fold past the header limit is seen
  // only when it arrives with the bytes before it; else it is a 431).
  FUZZ_CHECK(split.requests == whole.requests);
  const auto unfinished = [](End e) { return e == End::rejected || e == End::incomplete; };
  FUZZ_CHECK(split.end == whole.end || (unfinished(split.end) && unfinished(whole.end)));
  return 0;
}
