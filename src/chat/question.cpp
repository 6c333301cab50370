#include "chrysopedia/chat/question.hpp"

#include <fmt/format.h>

#include "chat/chat_request.hpp"
#include "common/utf8.hpp"

namespace chrysopedia::chat {

namespace {

constexpr std::size_t kMaxQuestion = 2000;

}  // namespace

std::string control_character_message(std::string_view field, std::string_view text,
                                      std::size_t at) {
  // The code point, found again from its character position.
  std::size_t chars = 0;
  unsigned code = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80) continue;
    if (chars++ == at) {
      code = c == 0xC2 ? static_cast<unsigned char>(text[i + 1]) : c;
      break;
    }
  }
  return fmt::format(
      "Field '{}' contains the control character U+{:04X} at character {}; a question needs "
      "none (tabs and line breaks are fine): remove it and send again.",
      field, code, at + 1);
}

Question check_question(std::string_view raw, std::string_view field) {
  Question q;
  q.text = common::trim_spaces(raw);
  const auto length = utf8_length(q.text);
  if (!length) {
    q.problem = fmt::format("Field '{}' is not valid UTF-8.", field);
  } else if (*length == 0) {
    q.problem = fmt::format("Field '{}' is empty; ask a question.", field);
  } else if (const auto at = first_control_character(q.text)) {
    q.problem = control_character_message(field, q.text, *at);
  } else if (*length > kMaxQuestion) {
    q.problem = fmt::format("Field '{}' is {} characters long; the limit is 2000.", field, *length);
  }
  return q;
}

CreatorFilter check_creator(std::string_view raw, std::string_view field) {
  CreatorFilter c;
  c.name = common::trim_spaces(raw);
  const auto n = utf8_length(c.name);
  if (!n) {
    c.problem = fmt::format("Field '{}' is not valid UTF-8.", field);
  } else if (*n > 200) {
    c.problem = fmt::format("Field '{}' is longer than 200 characters.", field);
  } else if (const auto at = first_control_character(c.name)) {
    c.problem = control_character_message(field, c.name, *at);
  }
  return c;
}

}  // namespace chrysopedia::chat
