#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chrysopedia::llm {

/// The fields the relay needs from one streamed chat-completion chunk.
/// Kept by the parser and reused chunk after chunk, so the strings keep
/// their capacity and a token costs no allocation.
struct ChunkFields {
  bool has_content = false;
  std::string content;  ///< choices[0].delta.content, invalid UTF-8 replaced
  bool has_finish_reason = false;
  std::string finish_reason;  ///< choices[0].finish_reason
  bool has_usage = false;
  long long prompt_tokens = 0, completion_tokens = 0;  ///< usage, both integers
  bool has_error = false;
  std::string error_message;  ///< error.message, a string error, or the raw value

  void clear();
};

enum class ChunkScan { ok, not_json, not_object };

/// Validates `json` as one JSON text (RFC 8259: no trailing bytes, nesting
/// at most 256 deep) and extracts the fields above, without building a
/// document: the upstream sends one of these per token, and a DOM parse
/// was half the service's instructions per chat. Invalid UTF-8 inside
/// strings is accepted and replaced with U+FFFD, as a peer's text is, and
/// so is an unpaired surrogate escape (strict JSON would refuse it).
ChunkScan scan_chunk(std::string_view json, ChunkFields& out);

}  // namespace chrysopedia::llm
