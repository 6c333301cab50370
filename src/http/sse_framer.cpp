#include "chrysopedia/http/sse_framer.hpp"

namespace chrysopedia::http {

std::string SseFramer::frame(std::string_view event, std::string_view data) {
  if (event != last_event_) {
    last_event_.assign(event);
    pending_cr_ = false;
  }
  if (pending_cr_ && !data.empty() && data.front() == '\n') data.remove_prefix(1);
  pending_cr_ = false;
  if (data.empty()) return {};

  std::string out;
  out.reserve(event.size() + data.size() + 24);
  out.append("event: ").append(event).append("\ndata: ");
  for (std::size_t i = 0; i < data.size(); ++i) {
    const char c = data[i];
    if (c == '\r') {
      if (i + 1 < data.size() && data[i + 1] == '\n') ++i;
      out.append("\ndata: ");
    } else if (c == '\n') {
      out.append("\ndata: ");
    } else {
      out.push_back(c);
    }
  }
  pending_cr_ = data.back() == '\r';
  out.append("\n\n");
  return out;
}

std::string SseFramer::comment(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 4);
  out.append(": ").append(text).append("\n\n");
  return out;
}

}  // namespace chrysopedia::http
