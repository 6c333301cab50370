#include "search/followup.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace chrysopedia::search {

namespace {

// How people say they are changing the subject, in the first words of a
// message. Lower case; matched at a word boundary.
constexpr std::array<std::string_view, 22> kSubjectChanges = {"different question",
                                                              "different thing",
                                                              "different topic",
                                                              "new question",
                                                              "new q",
                                                              "unrelated",
                                                              "btw",
                                                              "by the way",
                                                              "switching topics",
                                                              "switching gears",
                                                              "change of subject",
                                                              "something else",
                                                              "another thing",
                                                              "another question",
                                                              "random q",
                                                              "random question",
                                                              "separate thing",
                                                              "separate question",
                                                              "totally different",
                                                              "nvm",
                                                              "never mind",
                                                              "other question"};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

bool changes_subject(std::string_view question) {
  // Only how the message opens counts ("ok, different question: ..."), after
  // the small words people start with; not a question that merely uses the
  // word ("how do I make it sound unrelated to the original").
  static constexpr std::array<std::string_view, 16> kOpeners = {
      "ok",    "okay", "so",     "and", "also",  "hey",  "oh",   "alright",
      "right", "cool", "thanks", "thx", "great", "nice", "well", "hmm"};
  const std::string text = lower(question);
  std::size_t at = 0;
  for (bool skipped = true; skipped;) {
    skipped = false;
    while (at < text.size() && !std::isalnum(static_cast<unsigned char>(text[at]))) ++at;
    for (std::string_view opener : kOpeners) {
      const auto end = at + opener.size();
      if (text.compare(at, opener.size(), opener) == 0 &&
          (end == text.size() || !std::isalnum(static_cast<unsigned char>(text[end])))) {
        at = end;
        skipped = true;
        break;
      }
    }
  }
  return std::any_of(kSubjectChanges.begin(), kSubjectChanges.end(), [&](std::string_view cue) {
    const auto end = at + cue.size();
    return text.compare(at, cue.size(), cue) == 0 &&
           (end >= text.size() || !std::isalnum(static_cast<unsigned char>(text[end])));
  });
}

bool refers_back(std::string_view question) {
  static constexpr std::array<std::string_view, 16> kPointers = {
      "it",   "its", "it's", "that", "this", "them", "those",   "these",
      "they", "one", "ones", "then", "too",  "same", "instead", "opposite"};
  std::vector<std::string> words;
  std::string word;
  for (char c : lower(question) + " ") {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '\'') {
      word += c;
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (words.empty()) return false;
  if (words[0] == "and" ||
      (words.size() > 1 && (words[0] == "what" || words[0] == "how") && words[1] == "about")) {
    return true;
  }
  return std::any_of(words.begin(), words.end(), [](const std::string& w) {
    return std::find(kPointers.begin(), kPointers.end(), w) != kPointers.end();
  });
}

std::string contextual_query(std::string_view question, const std::vector<std::string>& context) {
  if (context.empty() || changes_subject(question)) return std::string(question);
  return std::string(question) + " " + context.back();
}

}  // namespace chrysopedia::search
