#include "llm/upstream_sse_parser.hpp"

#include <nlohmann/json.hpp>

namespace chrysopedia::llm {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t n;
  unsigned min;
  if (b0 < 0x80) return 1;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  unsigned cp = b0 & (0x7F >> n);
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_sequence(text, i);
    if (n == 0) {
      out.append("\xEF\xBF\xBD");
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

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
    std::string current;
    current.swap(line_);
    line(current, handler);
  }
  if (!error_.empty()) return error_;
  return std::nullopt;
}

std::optional<std::string> UpstreamSseParser::finish(Handler& handler) {
  if (error_.empty() && !line_.empty()) {
    std::string current;
    current.swap(line_);
    line(current, handler);
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
  std::string data;
  data.swap(data_);
  has_data_ = false;
  if (data == "[DONE]") {
    handler.on_done();
    return;
  }
  nlohmann::json chunk;
  try {
    chunk = nlohmann::json::parse(sanitize_utf8(data));
  } catch (const nlohmann::json::exception&) {
    error_ = "the upstream sent a chunk that is not JSON: " + sanitize_utf8(data.substr(0, 200));
    return;
  }
  if (!chunk.is_object()) {
    error_ = "the upstream sent a chunk that is not a JSON object";
    return;
  }
  if (const auto err = chunk.find("error"); err != chunk.end() && !err->is_null()) {
    std::string message = err->dump();
    if (err->is_object() && err->contains("message") && (*err)["message"].is_string()) {
      message = (*err)["message"].get<std::string>();
    } else if (err->is_string()) {
      message = err->get<std::string>();
    }
    error_ = "the upstream reported an error: " + message;
    return;
  }
  if (const auto choices = chunk.find("choices");
      choices != chunk.end() && choices->is_array() && !choices->empty()) {
    const auto& choice = (*choices)[0];
    if (choice.is_object()) {
      if (const auto delta = choice.find("delta"); delta != choice.end() && delta->is_object()) {
        if (const auto content = delta->find("content");
            content != delta->end() && content->is_string()) {
          const auto& text = content->get_ref<const std::string&>();
          if (!text.empty()) handler.on_delta(text);
        }
      }
      if (const auto reason = choice.find("finish_reason");
          reason != choice.end() && reason->is_string()) {
        handler.on_finish_reason(reason->get_ref<const std::string&>());
      }
    }
  }
  if (const auto usage = chunk.find("usage"); usage != chunk.end() && usage->is_object()) {
    const auto prompt = usage->find("prompt_tokens");
    const auto completion = usage->find("completion_tokens");
    if (prompt != usage->end() && prompt->is_number_integer() && completion != usage->end() &&
        completion->is_number_integer()) {
      handler.on_usage(prompt->get<int>(), completion->get<int>());
    }
  }
}

}  // namespace chrysopedia::llm
