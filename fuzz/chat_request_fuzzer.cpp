// The POST /api/v1/chat body: any bytes either become a request whose
// fields are within their limits or a 400/415 with a code and a message;
// nothing else escapes (an exception would be a 500 from the server).
// Its text is also written as a JSON string, as the prompt does.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chat/chat_request.hpp"
#include "common/json_string.hpp"
#include "common/utf8.hpp"
#include "fuzz_check.hpp"
#include "llm/upstream_sse_parser.hpp"

using chrysopedia::chat::ChatRequest;
using chrysopedia::chat::ChatRequestError;
using chrysopedia::chat::parse_chat_request;
using chrysopedia::fuzz::utf8_chars;
using chrysopedia::fuzz::valid_utf8;

namespace {

// What trimming must have removed from both ends.
bool starts_or_ends_with_space(std::string_view s) {
  for (std::string_view sp : {" ", "\t", "\n", "\v", "\f", "\r", "\xC2\xA0", "\xE3\x80\x80"}) {
    if (s.starts_with(sp) || s.ends_with(sp)) return true;
  }
  return false;
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void check(std::optional<std::string_view> content_type, std::string_view body) {
  const auto result = parse_chat_request(content_type, body);
  if (const auto* err = std::get_if<ChatRequestError>(&result)) {
    FUZZ_CHECK(err->status == 400 || err->status == 415);
    FUZZ_CHECK(!err->code.empty());
    FUZZ_CHECK(!err->message.empty());
    return;
  }
  const auto& req = std::get<ChatRequest>(result);
  FUZZ_CHECK(valid_utf8(req.query));
  FUZZ_CHECK(utf8_chars(req.query) >= 1 && utf8_chars(req.query) <= 2000);
  FUZZ_CHECK(!starts_or_ends_with_space(req.query));
  if (req.creator) {
    FUZZ_CHECK(valid_utf8(*req.creator));
    FUZZ_CHECK(utf8_chars(*req.creator) >= 1 && utf8_chars(*req.creator) <= 200);
    FUZZ_CHECK(!starts_or_ends_with_space(*req.creator));
  }
  if (req.conversation_id) FUZZ_CHECK(valid_id(*req.conversation_id));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The body, as the server hands it over.
  check(std::string_view("application/json"), input);
  // The Content-Type header, with a valid body: a type that is not JSON is a
  // 415, never an exception.
  const std::string_view header = input.substr(0, input.find('\n'));
  check(header, R"({"query": "how do I sidechain a bass?"})");
  check(std::nullopt, input);
  // The question then goes into the prompt through the hand-written JSON
  // string writer: it must write what nlohmann writes for the same text.
  std::string written;
  chrysopedia::common::append_json_string(written, input);
  FUZZ_CHECK(written == nlohmann::json(chrysopedia::common::sanitize_utf8(input)).dump());
  return 0;
}
