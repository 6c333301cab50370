#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chrysopedia/chat/answer.hpp"

namespace chrysopedia::openai {

/// What every object of one completion shares (SPEC §10: one `id` and
/// `created` across all chunks).
struct CompletionHead {
  std::string id;  ///< "chatcmpl-…"
  long long created = 0;
};

/// A fresh head: an unguessable id and the time now.
CompletionHead new_completion_head();

/// Encodes one completion's chunks in OpenAI's wire format. Each call
/// returns one chunk's JSON (one line); the content chunk, sent per token,
/// is built from a prefix made once.
class ChunkEncoder {
 public:
  explicit ChunkEncoder(CompletionHead head);

  /// The first chunk: `delta: {"role": "assistant", "content": ""}`.
  std::string role() const;
  /// A content delta, appended to `out`.
  void append_content(std::string& out, std::string_view delta) const;
  /// The last choice chunk: an empty delta and `finish_reason`, with
  /// `citations` (every source's URL, [N] is citations[N-1]) and `sources`.
  std::string last(std::string_view finish_reason, const std::vector<std::string>& urls,
                   std::string_view sources_json) const;
  /// `choices: []` and `usage` (null when the upstream reported none).
  std::string usage(const std::optional<chat::TurnUsage>& usage) const;

  const CompletionHead& head() const { return head_; }

 private:
  std::string object_head(std::string_view object) const;
  CompletionHead head_;
  std::string content_prefix_;
};

/// OpenAI's error object, `{"error": {"message", "type", "param": null, "code"}}`,
/// as a mid-stream chunk or an error body.
std::string error_object(std::string_view message, std::string_view type, std::string_view code);

/// A finish reason OpenAI's clients know (stop, length, content_filter);
/// "stop" for none or any other.
std::string_view finish_reason(std::string_view upstream);

/// The non-streamed `chat.completion` object: the answer as the message's
/// `content`, a `url_citation` annotation per cited number per marker
/// (indices in code points of the content), `usage`, and, as on the last
/// chunk of a stream, `citations` and `sources`.
std::string completion_object(const CompletionHead& head, const chat::Answered& answer,
                              const std::vector<chat::SourceRef>& sources,
                              const std::vector<std::string>& urls, std::string_view sources_json);

/// Code-point offsets of the given byte offsets (ascending) in UTF-8 `text`.
std::vector<std::size_t> code_point_offsets(std::string_view text,
                                            const std::vector<std::size_t>& byte_offsets);

}  // namespace chrysopedia::openai
