#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace chrysopedia::chat {

/// Finds the sources an answer cites as it streams (SPEC §1, `done`'s
/// `citations` and `invalid_citations`), one delta at a time and never
/// re-reading what has passed: `[1, 2]`, `[1][2]`, `[1,2]` and `[[1]]`
/// cite 1 and 2 (or 1); `[1-3]` and `[1–3]` cite 1 to 3; a number is
/// decimal without leading zeros (`[0]` is cited and invalid; `[ 1 ]` and
/// `[01]` are no citations); a marker split across deltas counts. Nothing
/// inside a code span or a fenced code block counts, by CommonMark's rules:
/// a backtick run that finds no closer in its paragraph is literal, and
/// what followed it is read again as ordinary text. Memory: a few bytes of
/// state, plus the paragraph after a backtick run that has not closed yet.
class CitationScanner {
 public:
  /// A marker's span in bytes of everything fed, and the numbers it names.
  struct Marker {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::vector<int> numbers;
  };

  /// `keep_markers`: also record every marker's span (markers()), which
  /// grows with the answer.
  explicit CitationScanner(std::size_t source_count, bool keep_markers = false)
      : sources_(source_count), keep_markers_(keep_markers) {}

  void feed(std::string_view delta);
  /// The answer is complete: a code span still open was never one.
  void finish();

  /// Numbers of listed sources, in order of first citation, each once.
  const std::vector<int>& cited() const { return cited_; }
  /// Numbers cited that are not listed (0, or past the last source), each once.
  const std::vector<int>& invalid() const { return invalid_; }
  /// Every marker that cites, in order (only with `keep_markers`).
  const std::vector<Marker>& markers() const { return markers_; }

 private:
  // `at` is a character's offset in everything fed (kept only with
  // keep_markers_: text held back to be read again keeps its offsets).
  void line_char(char c, std::size_t at);
  void decide_line_head();
  void skip(char c);  // the rest of a fence line
  void inline_char(char c, std::size_t at);
  void end_paragraph();
  void close_bracket(std::size_t at);
  void record(int n);

  std::size_t sources_;
  bool keep_markers_;
  std::size_t fed_ = 0;
  std::vector<int> cited_;
  std::vector<int> invalid_;
  std::vector<Marker> markers_;

  // Line starts, for fences: the spaces and fence characters seen so far.
  bool line_start_ = true;
  std::string head_;
  std::vector<std::size_t> head_at_;
  bool line_blank_ = true;
  bool in_fence_ = false;
  char fence_char_ = 0;
  std::size_t fence_len_ = 0;
  bool skip_line_ = false;  // the rest of a fence line (its info string)

  // Code spans: the opening run's length, and what followed it (read
  // again as text if no run of that length closes it in its paragraph).
  std::size_t ticks_ = 0;  // backticks in the run being read
  std::size_t span_ = 0;
  std::string span_text_;
  std::vector<std::size_t> span_at_;

  // A citation being read since its `[`.
  bool in_bracket_ = false;
  std::string bracket_;
  std::size_t bracket_at_ = 0;
};

}  // namespace chrysopedia::chat
