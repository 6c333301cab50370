#include "chat/chat_request.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chrysopedia/chat/question.hpp"
#include "chrysopedia/http/media_type.hpp"
#include "common/utf8.hpp"

namespace chrysopedia::chat {

namespace {

ChatRequestError bad(std::string code, std::string message) {
  return {400, std::move(code), std::move(message)};
}

}  // namespace

std::optional<std::size_t> first_control_character(std::string_view text) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80) continue;
    // Tabs and line breaks are how people paste; the rest (NUL, ESC, BEL,
    // DEL, the C1 block) are in no question and break what comes after:
    // Postgres refuses NUL in text, terminals act on ESC.
    const bool c0 = (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F;
    const bool c1 =
        c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xA0;
    if (c0 || c1) return chars;
    ++chars;
  }
  return std::nullopt;
}

std::optional<std::size_t> utf8_length(std::string_view text) {
  if (common::sanitize_utf8(text) != text) return std::nullopt;
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

bool valid_conversation_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

std::variant<ChatRequest, ChatRequestError> parse_chat_request(
    std::optional<std::string_view> content_type, std::string_view body) {
  switch (http::json_content_type(content_type)) {
    case http::JsonContentType::json:
      break;
    case http::JsonContentType::not_json:
      return ChatRequestError{415, "unsupported_media_type",
                              "Send the question as JSON with Content-Type: application/json, "
                              "e.g. {\"query\": \"how do I sidechain a bass?\"}."};
    case http::JsonContentType::bad_charset:
      return ChatRequestError{415, "unsupported_media_type",
                              "Send the JSON body in UTF-8: Content-Type: application/json, "
                              "with no charset or charset=utf-8."};
  }
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    // Not only parse_error: a number too large for a double is out_of_range.
    std::string what = e.what();
    if (const auto colon = what.find(": "); colon != std::string::npos) {
      what = what.substr(colon + 2);
    } else if (const auto tag = what.find("] "); tag != std::string::npos) {
      what = what.substr(tag + 2);
    }
    return bad("invalid_json", "The body is not valid JSON: " + what);
  }
  if (!doc.is_object()) {
    return bad("invalid_json", "The body must be a JSON object such as {\"query\": \"...\"}.");
  }

  ChatRequest out;
  const auto query = doc.find("query");
  if (query == doc.end() || query->is_null()) {
    return bad("missing_field", "Field 'query' is required: the question to answer.");
  }
  if (!query->is_string()) return bad("invalid_field", "Field 'query' must be a string.");
  auto question = check_question(query->get_ref<const std::string&>(), "query");
  if (!question.ok()) return bad("invalid_field", question.problem);
  out.query = std::move(question.text);

  if (const auto creator = doc.find("creator"); creator != doc.end() && !creator->is_null()) {
    if (!creator->is_string()) {
      return bad("invalid_field",
                 "Field 'creator' must be a string (a creator's slug or name) or null.");
    }
    auto c = check_creator(creator->get_ref<const std::string&>(), "creator");
    if (!c.ok()) return bad("invalid_field", c.problem);
    if (!c.name.empty()) out.creator = std::move(c.name);
  }

  if (const auto cid = doc.find("conversation_id"); cid != doc.end() && !cid->is_null()) {
    if (!cid->is_string() || !valid_conversation_id(cid->get_ref<const std::string&>())) {
      return bad("invalid_field",
                 "Field 'conversation_id' must be 1-64 letters, digits, '_' or '-' (a UUID fits), "
                 "or null to start a new conversation.");
    }
    out.conversation_id = cid->get<std::string>();
  }
  return out;
}

}  // namespace chrysopedia::chat
