#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "llm/chunk_scanner.hpp"

namespace chrysopedia::llm {

/// Incremental parser of an OpenAI-style streaming response (SPEC §4):
/// Server-Sent Events whose `data` is a JSON chunk or `[DONE]`. Bytes may
/// arrive split anywhere, one at a time if need be: lines end in LF, CR LF
/// or CR (also split across reads), comments are skipped, multi-line
/// `data` is joined, and a line longer than the limit is an error rather
/// than unbounded memory.
class UpstreamSseParser {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void on_delta(std::string_view text) = 0;  ///< non-empty content
    virtual void on_finish_reason(std::string_view reason) = 0;
    virtual void on_usage(int prompt_tokens, int completion_tokens) = 0;
    virtual void on_done() = 0;  ///< `data: [DONE]`
  };

  explicit UpstreamSseParser(std::size_t max_line = 1 << 20) : max_line_(max_line) {}

  /// Parses what arrived. Returns an error message once the stream is
  /// broken (a line too long, a chunk that is not JSON, an `{"error": ...}`
  /// chunk); the parser then stays failed and ignores further input.
  std::optional<std::string> feed(std::string_view bytes, Handler& handler);

  /// End of input: an event still waiting for its blank line is delivered.
  std::optional<std::string> finish(Handler& handler);

  bool failed() const { return !error_.empty(); }

 private:
  void line(std::string_view text, Handler& handler);
  void dispatch(Handler& handler);

  std::size_t max_line_;
  std::string line_;
  std::string data_;
  bool has_data_ = false;
  bool pending_cr_ = false;
  std::string error_;
  ChunkFields fields_;
};

}  // namespace chrysopedia::llm
