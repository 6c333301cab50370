#include "support/sse_parser.hpp"

namespace chrysopedia::test {

std::vector<SseEvent> parse_sse(std::string_view stream, std::size_t* comments) {
  std::vector<SseEvent> out;
  std::string event, data, last_id;
  std::size_t i = 0;
  if (comments) *comments = 0;
  while (i < stream.size()) {
    std::size_t end = i;
    while (end < stream.size() && stream[end] != '\n' && stream[end] != '\r') ++end;
    if (end == stream.size()) break;  // an unterminated line is not processed
    const std::string_view line = stream.substr(i, end - i);
    i = end + 1;
    if (stream[end] == '\r' && i < stream.size() && stream[i] == '\n') ++i;

    if (line.empty()) {
      if (!data.empty()) {
        data.pop_back();  // the LF after the last data line
        out.push_back({event.empty() ? "message" : event, data, last_id});
      }
      event.clear();
      data.clear();
      continue;
    }
    if (line.front() == ':') {
      if (comments) ++*comments;
      continue;
    }
    const auto colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "event") {
      event.assign(value);
    } else if (field == "data") {
      data.append(value).push_back('\n');
    } else if (field == "id" && value.find('\0') == std::string_view::npos) {
      last_id.assign(value);  // kept for the events after it, as a browser does
    }
  }
  return out;
}

std::string normalise_newlines(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace chrysopedia::test
