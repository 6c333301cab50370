#include "chat/citation_scanner.hpp"

#include <algorithm>

namespace chrysopedia::chat {

namespace {

constexpr std::size_t kMaxBracket = 64;  // longer is no citation
constexpr int kMaxRange = 100;           // `[1-100000]` is no citation
constexpr std::size_t kMaxDigits = 6;

// A decimal without leading zeros ("0" itself allowed) at s[i]; moves i.
bool number_at(const std::string& s, std::size_t& i, int& out) {
  const std::size_t start = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  const std::size_t n = i - start;
  if (n == 0 || n > kMaxDigits || (n > 1 && s[start] == '0')) return false;
  out = std::stoi(s.substr(start, n));
  return true;
}

// The numbers a citation's inside names ("1, 2", "1-3"), or none when it
// is not one.
std::vector<int> parse_citation(std::string s) {
  for (std::size_t at; (at = s.find("\xE2\x80\x93")) != std::string::npos;) {
    s.replace(at, 3, "-");  // an en dash, as in `[1–3]`
  }
  std::vector<int> numbers;
  std::size_t i = 0;
  for (;;) {
    int first = 0;
    if (!number_at(s, i, first)) return {};
    if (i < s.size() && s[i] == '-') {
      int last = 0;
      ++i;
      if (!number_at(s, i, last) || first < 1 || last < first || last - first > kMaxRange) {
        return {};
      }
      for (int n = first; n <= last; ++n) numbers.push_back(n);
    } else {
      numbers.push_back(first);
    }
    if (i == s.size()) return numbers;
    if (s[i] != ',') return {};
    ++i;
    while (i < s.size() && s[i] == ' ') ++i;
  }
}

}  // namespace

void CitationScanner::feed(std::string_view delta) {
  for (char c : delta) line_char(c, fed_++);
}

void CitationScanner::finish() {
  if (line_start_ && !head_.empty()) decide_line_head();
  end_paragraph();
}

void CitationScanner::line_char(char c, std::size_t at) {
  if (c == '\r') return;
  if (skip_line_) return skip(c);
  if (line_start_) {
    // Up to three spaces, then a run of one fence character: maybe a fence.
    const std::size_t spaces = std::min(head_.find_first_not_of(' '), head_.size());
    const bool only_spaces = spaces == head_.size();
    if ((c == ' ' && only_spaces && spaces < 3) ||
        ((c == '`' || c == '~') && (only_spaces || head_.back() == c))) {
      head_ += c;
      if (keep_markers_) head_at_.push_back(at);
      return;
    }
    decide_line_head();
    if (skip_line_) return skip(c);
  }
  if (in_fence_) {
    if (c == '\n') line_start_ = true;
    return;
  }
  if (c == '\n') {
    if (line_blank_) end_paragraph();
    inline_char('\n', at);
    line_start_ = true;
    line_blank_ = true;
    return;
  }
  if (c != ' ' && c != '\t') line_blank_ = false;
  inline_char(c, at);
}

void CitationScanner::skip(char c) {
  if (c != '\n') return;
  skip_line_ = false;
  line_start_ = true;
  line_blank_ = true;
}

void CitationScanner::decide_line_head() {
  line_start_ = false;
  const std::size_t spaces = std::min(head_.find_first_not_of(' '), head_.size());
  const std::size_t run = head_.size() - spaces;
  const char fence = run > 0 ? head_.back() : 0;
  if (run >= 3) {
    if (!in_fence_) {
      end_paragraph();  // a fence interrupts a paragraph
      in_fence_ = true;
      fence_char_ = fence;
      fence_len_ = run;
      skip_line_ = true;  // its info string
    } else if (fence == fence_char_ && run >= fence_len_) {
      in_fence_ = false;
      skip_line_ = true;
    }
    head_.clear();
    head_at_.clear();
    return;
  }
  if (in_fence_) {
    head_.clear();
    head_at_.clear();
    return;
  }
  // Not a fence: what was held is text.
  const std::string held = std::move(head_);
  const std::vector<std::size_t> held_at = std::move(head_at_);
  head_.clear();
  head_at_.clear();
  for (std::size_t i = 0; i < held.size(); ++i) {
    if (held[i] != ' ') line_blank_ = false;
    inline_char(held[i], keep_markers_ ? held_at[i] : 0);
  }
}

void CitationScanner::inline_char(char c, std::size_t at) {
  const auto hold = [&] {
    span_text_ += c;
    if (keep_markers_) span_at_.push_back(at);
  };
  if (c == '`') {
    in_bracket_ = false;
    ++ticks_;
    if (span_ > 0) hold();
    return;
  }
  if (ticks_ > 0) {
    if (span_ == 0) {
      span_ = ticks_;  // opens, if a run of this length closes it
      span_text_.clear();
      span_at_.clear();
    } else if (ticks_ == span_) {
      span_ = 0;  // closed: what was inside cites nothing
      span_text_.clear();
      span_at_.clear();
    }
    ticks_ = 0;
  }
  if (span_ > 0) {
    hold();
    return;
  }
  if (c == '[') {
    in_bracket_ = true;  // a second `[` (as in `[[1]]`) starts again
    bracket_.clear();
    bracket_at_ = at;
    return;
  }
  if (!in_bracket_) return;
  if (c == ']') {
    close_bracket(at);
    return;
  }
  const bool allowed = (c >= '0' && c <= '9') || c == ',' || c == ' ' || c == '-' ||
                       static_cast<unsigned char>(c) >= 0x80;
  if (!allowed || bracket_.size() >= kMaxBracket) {
    in_bracket_ = false;
    return;
  }
  bracket_ += c;
}

void CitationScanner::end_paragraph() {
  in_bracket_ = false;
  // A run still open when its paragraph ends was never a code span: it is
  // literal, and what followed it is text, read again (it may hold spans
  // of its own, which may close within it).
  for (;;) {
    if (ticks_ > 0) inline_char('\n', 0);  // ends the run: opens or closes
    if (span_ == 0) break;
    const std::string text = std::move(span_text_);
    const std::vector<std::size_t> text_at = std::move(span_at_);
    span_text_.clear();
    span_at_.clear();
    span_ = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      inline_char(text[i], keep_markers_ ? text_at[i] : 0);
    }
    in_bracket_ = false;
  }
  in_bracket_ = false;
}

void CitationScanner::close_bracket(std::size_t at) {
  in_bracket_ = false;
  auto numbers = parse_citation(bracket_);
  for (int n : numbers) record(n);
  if (keep_markers_ && !numbers.empty()) {
    markers_.push_back({bracket_at_, at + 1, std::move(numbers)});
  }
}

void CitationScanner::record(int n) {
  auto& list = n >= 1 && static_cast<std::size_t>(n) <= sources_ ? cited_ : invalid_;
  if (std::find(list.begin(), list.end(), n) == list.end()) list.push_back(n);
}

}  // namespace chrysopedia::chat
