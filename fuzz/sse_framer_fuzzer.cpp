// Our SSE framing (SPEC §1): whatever data the service sends, a client that
// parses the stream as the WHATWG standard says gets back exactly that
// text, line breaks normalised to LF, and nothing else (no injected event,
// field or lost byte).
//
// Input: records of [selector][length][length bytes]; the selector's low
// two bits pick the event name, bit 2 puts a heartbeat before the event.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chrysopedia/http/sse_framer.hpp"
#include "fuzz_check.hpp"
#include "support/sse_parser.hpp"

using chrysopedia::http::SseFramer;
using chrysopedia::test::normalise_newlines;
using chrysopedia::test::parse_sse;

namespace {

constexpr std::string_view kEvents[] = {"token", "sources", "done", "error"};

struct Run {
  std::string event;
  std::string data;  // what was sent, concatenated
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  SseFramer framer, twin;
  std::string wire;
  std::size_t heartbeats = 0;
  // Consecutive calls with one event name form a run: the framer joins a
  // CR ending one call to an LF starting the next within a run only.
  std::vector<Run> runs;
  for (std::size_t i = 0; i + 1 < size;) {
    const std::uint8_t selector = data[i];
    const std::size_t n = std::min<std::size_t>(data[i + 1], size - i - 2);
    const std::string_view payload(reinterpret_cast<const char*>(data) + i + 2, n);
    i += 2 + n;
    const std::string_view event = kEvents[selector & 3];
    if (selector & 4) {
      wire += SseFramer::comment("ping");
      ++heartbeats;
    }
    const std::string framed = framer.frame(event, payload);
    // frame_into appends the same bytes to what is already there.
    std::string appended = "x";
    FUZZ_CHECK(twin.frame_into(appended, event, payload) == framed.size());
    FUZZ_CHECK(appended == "x" + framed);
    if (!framed.empty()) {
      FUZZ_CHECK(framed.ends_with("\n\n"));
      // Every frame parses on its own: nothing leaks into the next one.
      const auto alone = parse_sse(framed);
      FUZZ_CHECK(alone.size() == 1 && alone[0].event == event);
    }
    wire += framed;
    if (runs.empty() || runs.back().event != event) runs.push_back({std::string(event), ""});
    runs.back().data += payload;
  }

  std::size_t comments = 0;
  const auto events = parse_sse(wire, &comments);
  FUZZ_CHECK(comments == heartbeats);

  // What the client rebuilds, run by run: the parsed events of one name in
  // a row, concatenated. Runs that sent nothing produce no event, so
  // neighbouring runs of one name merge on the client's side too.
  std::vector<Run> expected;
  for (const auto& r : runs) {
    std::string text = normalise_newlines(r.data);
    if (text.empty()) continue;
    if (!expected.empty() && expected.back().event == r.event) {
      expected.back().data += text;
    } else {
      expected.push_back({r.event, std::move(text)});
    }
  }
  std::vector<Run> got;
  for (const auto& e : events) {
    FUZZ_CHECK(!e.data.empty());
    if (!got.empty() && got.back().event == e.event) {
      got.back().data += e.data;
    } else {
      got.push_back({e.event, e.data});
    }
  }
  FUZZ_CHECK(got.size() == expected.size());
  for (std::size_t k = 0; k < got.size(); ++k) {
    FUZZ_CHECK(got[k].event == expected[k].event);
    FUZZ_CHECK(got[k].data == expected[k].data);
  }
  return 0;
}
