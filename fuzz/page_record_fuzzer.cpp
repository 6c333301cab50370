// One line of the import format (SPEC §2): accepted or refused with a
// reason, never a crash or an escaping exception; an accepted record holds
// only what Postgres and the search can take.

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "search/page_record.hpp"

using chrysopedia::fuzz::valid_utf8;
using chrysopedia::search::parse_page_record;

namespace {

bool slug_ok(const std::string& s) {
  if (s.empty() || s.size() > 300) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Text Postgres stores: well-formed UTF-8 without NUL, within the limit.
bool text_ok(const std::string& s, std::size_t max) {
  return s.size() <= max && valid_utf8(s) && s.find('\0') == std::string::npos;
}

bool not_blank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto record = parse_page_record(line, error);
  if (!record) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  FUZZ_CHECK(error.empty());
  FUZZ_CHECK(slug_ok(record->slug));
  FUZZ_CHECK(slug_ok(record->creator_slug));
  FUZZ_CHECK(text_ok(record->title, 300) && not_blank(record->title));
  FUZZ_CHECK(text_ok(record->creator_name, 300) && not_blank(record->creator_name));
  FUZZ_CHECK(text_ok(record->topic_category, 300));
  FUZZ_CHECK(text_ok(record->summary, 100'000));
  FUZZ_CHECK(record->topic_tags.size() <= 100);
  for (const auto& tag : record->topic_tags) FUZZ_CHECK(text_ok(tag, 300));
  FUZZ_CHECK(record->sections.size() <= 200);
  for (const auto& s : record->sections) {
    FUZZ_CHECK(text_ok(s.anchor, 300));
    FUZZ_CHECK(text_ok(s.heading, 300));
    FUZZ_CHECK(text_ok(s.content, 100'000));
    FUZZ_CHECK(!s.heading.empty() || !s.content.empty());
  }
  return 0;
}
