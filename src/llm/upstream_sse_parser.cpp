#include "llm/upstream_sse_parser.hpp"

#include <limits>

#include "common/utf8.hpp"

namespace chrysopedia::llm {

using common::utf8_sequence;

namespace {

// The buffers keep their capacity from line to line (no allocation per
// token), except after an outsized line, which would otherwise stay
// allocated for the rest of the stream.
void release_if_large(std::string& s) {
  s.clear();
  if (s.capacity() > 16 * 1024) s.shrink_to_fit();
}

}  // namespace

std::optional<std::string> UpstreamSseParser::feed(std::string_view bytes, Handler& handler) {
  for (std::size_t i = 0; i < bytes.size() && error_.empty();) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (bytes[i] == '\n') {  // the LF of a CR LF split across reads
        ++i;
        continue;
      }
    }
    // Take the run up to the next line end in one go.
    std::size_t end = i;
    while (end < bytes.size() && bytes[end] != '\n' && bytes[end] != '\r') ++end;
    if (line_.size() + (end - i) > max_line_) {
      error_ = "the upstream sent a line longer than " + std::to_string(max_line_) + " bytes";
      break;
    }
    line_.append(bytes.substr(i, end - i));
    if (end == bytes.size()) break;
    pending_cr_ = bytes[end] == '\r';
    i = end + 1;
    line(line_, handler);
    release_if_large(line_);
  }
  if (!error_.empty()) return error_;
  return std::nullopt;
}

std::optional<std::string> UpstreamSseParser::finish(Handler& handler) {
  if (error_.empty() && !line_.empty()) {
    line(line_, handler);
    line_.clear();
  }
  if (error_.empty() && has_data_) dispatch(handler);
  if (!error_.empty()) return error_;
  return std::nullopt;
}

void UpstreamSseParser::line(std::string_view text, Handler& handler) {
  if (text.empty()) {
    if (has_data_) dispatch(handler);
    return;
  }
  if (text.front() == ':') return;  // comment (keep-alive)
  const auto colon = text.find(':');
  const std::string_view field = text.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? "" : text.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field != "data") return;  // event, id, retry: nothing we need
  if (data_.size() + value.size() + 1 > max_line_) {
    error_ = "the upstream sent an event larger than " + std::to_string(max_line_) + " bytes";
    return;
  }
  if (has_data_) data_.push_back('\n');
  data_.append(value);
  has_data_ = true;
}

void UpstreamSseParser::dispatch(Handler& handler) {
  has_data_ = false;
  if (data_ == "[DONE]") {
    data_.clear();
    handler.on_done();
    return;
  }
  const ChunkScan scan = scan_chunk(data_, fields_);
  if (scan == ChunkScan::not_json) {
    error_ = "the upstream sent a chunk that is not JSON: " +
             common::sanitize_utf8(std::string_view(data_).substr(0, 200));
    return;
  }
  if (scan == ChunkScan::not_object) {
    error_ = "the upstream sent a chunk that is not a JSON object";
    return;
  }
  release_if_large(data_);
  if (fields_.has_error) {
    error_ = "the upstream reported an error: " + fields_.error_message;
    return;
  }
  if (fields_.has_content && !fields_.content.empty()) handler.on_delta(fields_.content);
  if (fields_.has_finish_reason) handler.on_finish_reason(fields_.finish_reason);
  // A count outside 0..INT_MAX would wrap in the cast and reach the client
  // as a different number.
  const auto count = [](long long n) { return n >= 0 && n <= std::numeric_limits<int>::max(); };
  if (fields_.has_usage && count(fields_.prompt_tokens) && count(fields_.completion_tokens)) {
    handler.on_usage(static_cast<int>(fields_.prompt_tokens),
                     static_cast<int>(fields_.completion_tokens));
  }
}

}  // namespace chrysopedia::llm
