// The model's stream (SPEC §4) as the upstream sends it: however the bytes
// are split across reads, the parser must report the same events and the
// same error, and the text it hands on must be well-formed UTF-8.
//
// Input: 2 bytes seeding the split points, 1 byte choosing the line limit
// (so the overlong-line paths are reachable with short inputs), then the
// stream.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/utf8.hpp"
#include "fuzz_check.hpp"
#include "llm/chunk_scanner.hpp"
#include "llm/upstream_sse_parser.hpp"
#include "support/json_surrogates.hpp"

using chrysopedia::common::sanitize_utf8;
using chrysopedia::fuzz::Rng;
using chrysopedia::fuzz::valid_utf8;
using chrysopedia::llm::ChunkFields;
using chrysopedia::llm::ChunkScan;
using chrysopedia::llm::scan_chunk;
using chrysopedia::llm::UpstreamSseParser;

namespace {

struct Recorder : UpstreamSseParser::Handler {
  std::vector<std::string> events;
  bool stopped = false;  // the parser reported an error
  void on_delta(std::string_view text) override {
    FUZZ_CHECK(!stopped);
    FUZZ_CHECK(!text.empty());
    FUZZ_CHECK(valid_utf8(text));
    events.push_back("delta:" + std::string(text));
  }
  void on_finish_reason(std::string_view reason) override {
    FUZZ_CHECK(!stopped);
    FUZZ_CHECK(valid_utf8(reason));
    events.push_back("finish:" + std::string(reason));
  }
  void on_usage(int prompt, int completion) override {
    FUZZ_CHECK(!stopped);
    FUZZ_CHECK(prompt >= 0 && completion >= 0);  // token counts
    events.push_back("usage:" + std::to_string(prompt) + "," + std::to_string(completion));
  }
  void on_done() override {
    FUZZ_CHECK(!stopped);
    events.push_back("done");
  }
};

struct Outcome {
  std::vector<std::string> events;
  std::optional<std::string> error;
};

// Feeds the stream in pieces of the given sizes, then finishes. Input that
// follows an error is still fed: the parser must ignore it.
Outcome run(std::string_view stream, const std::vector<std::size_t>& pieces, std::size_t max_line) {
  UpstreamSseParser parser(max_line);
  Recorder r;
  Outcome o;
  std::size_t pos = 0;
  for (std::size_t n : pieces) {
    const auto error = parser.feed(stream.substr(pos, n), r);
    pos += n;
    if (error) {
      FUZZ_CHECK(parser.failed());
      if (!o.error) o.error = error;
      FUZZ_CHECK(*error == *o.error);  // it stays failed, with the same reason
      r.stopped = true;
    } else {
      FUZZ_CHECK(!o.error);
    }
  }
  FUZZ_CHECK(pos == stream.size());
  const auto error = parser.finish(r);
  FUZZ_CHECK(error.has_value() == parser.failed());
  if (o.error) FUZZ_CHECK(error == o.error);
  o.error = error;
  if (o.error) FUZZ_CHECK(valid_utf8(*o.error));
  o.events = std::move(r.events);
  return o;
}

bool nests_within(const nlohmann::json& j, int depth) {
  if (!j.is_structured()) return true;
  if (depth == 0) return false;
  for (const auto& child : j) {
    if (!nests_within(child, depth - 1)) return false;
  }
  return true;
}

// The hand-written chunk scanner against nlohmann's parser (what the
// parser used before): they must agree on what is JSON and what is an
// object. Known differences, where the scanner is the stricter or the more
// lenient by design, are left out: it refuses nesting deeper than 256,
// while nlohmann refuses numbers too large for a double, skips a leading
// byte-order mark and takes a NUL byte as the end of its input.
void differential(std::string_view text) {
  ChunkFields fields;
  const ChunkScan scan = scan_chunk(text, fields);
  if (text.starts_with("\xEF\xBB\xBF") || text.find('\0') != std::string_view::npos) return;
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(chrysopedia::test::lone_surrogates_replaced(sanitize_utf8(text)));
  } catch (const nlohmann::json::parse_error&) {
    FUZZ_CHECK(scan == ChunkScan::not_json);
    return;
  } catch (const nlohmann::json::out_of_range&) {
    return;
  }
  if (!nests_within(doc, 250)) return;
  FUZZ_CHECK(scan == (doc.is_object() ? ChunkScan::ok : ChunkScan::not_object));
  if (scan != ChunkScan::ok) return;
  FUZZ_CHECK(valid_utf8(fields.content));
  FUZZ_CHECK(valid_utf8(fields.finish_reason));
  FUZZ_CHECK(valid_utf8(fields.error_message));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  Rng rng{(static_cast<unsigned>(data[0]) << 8 | data[1]) + 1u};
  const std::size_t max_line = data[2] < 128 ? std::size_t{1} << 20 : (data[2] - 127u) * 4;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 3, size - 3);

  const Outcome whole = run(stream, {stream.size()}, max_line);

  std::vector<std::size_t> pieces;
  for (std::size_t left = stream.size(); left > 0;) {
    const unsigned r = rng.next();
    std::size_t n = r % 4 == 0 ? 1 + (r >> 2) % 512 : (r >> 2) % 17;  // 0: an empty read
    if (n > left) n = left;
    pieces.push_back(n);
    left -= n;
  }
  const Outcome split = run(stream, pieces, max_line);
  FUZZ_CHECK(split.events == whole.events);
  FUZZ_CHECK(split.error == whole.error);

  const Outcome bytes = run(stream, std::vector<std::size_t>(stream.size(), 1), max_line);
  FUZZ_CHECK(bytes.events == whole.events);
  FUZZ_CHECK(bytes.error == whole.error);

  // The first line's data as one chunk, and the whole stream as one.
  std::string_view first = stream.substr(0, stream.find_first_of("\r\n"));
  if (first.starts_with("data:")) first.remove_prefix(5);
  if (first.starts_with(' ')) first.remove_prefix(1);
  differential(first);
  differential(stream);

  // sanitize_utf8 on its own: well-formed output, well-formed input kept.
  const std::string clean = sanitize_utf8(stream);
  FUZZ_CHECK(valid_utf8(clean));
  FUZZ_CHECK(!valid_utf8(stream) || clean == stream);
  FUZZ_CHECK(sanitize_utf8(clean) == clean);
  return 0;
}
