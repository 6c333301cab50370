#pragma once

#include <string>
#include <string_view>

namespace chrysopedia::chat {

/// A question as the chat takes it (SPEC §1), whichever face it came
/// through: trimmed of spaces, 1-2000 characters of valid UTF-8, and no
/// control character but tab and line breaks.
struct Question {
  std::string text;     ///< trimmed, when the question is taken
  std::string problem;  ///< else why not, naming the field, in words to act on
  bool ok() const { return problem.empty(); }
};

/// Checks `raw`; `field` names where it came from ("query",
/// "messages[2].content").
Question check_question(std::string_view raw, std::string_view field);

/// A creator filter as the chat takes it: trimmed, at most 200 characters
/// of valid UTF-8 without control characters; empty means none.
struct CreatorFilter {
  std::string name;     ///< trimmed ("" for no filter)
  std::string problem;  ///< else why not, naming the field
  bool ok() const { return problem.empty(); }
};
CreatorFilter check_creator(std::string_view raw, std::string_view field);

}  // namespace chrysopedia::chat
