#include "chrysopedia/http/sse_framer.hpp"

#include <algorithm>

namespace chrysopedia::http {

std::string SseFramer::frame(std::string_view event, std::string_view data, std::string_view id) {
  std::string out;
  frame_into(out, event, data, id);
  return out;
}

std::size_t SseFramer::frame_into(std::string& out, std::string_view event, std::string_view data,
                                  std::string_view id) {
  if (event != last_event_) {
    last_event_.assign(event);
    pending_cr_ = false;
  }
  // Empty data sends nothing, so it must not forget a CR still waiting for its LF.
  if (data.empty()) return 0;
  if (pending_cr_ && data.front() == '\n') data.remove_prefix(1);
  pending_cr_ = false;
  if (data.empty()) return 0;

  const std::size_t start = out.size();
  // No name: a plain `data:` event (clients call it "message"), as
  // OpenAI's streams are.
  if (!id.empty()) out.append("id: ").append(id).append("\n");
  if (!event.empty()) out.append("event: ").append(event).append("\n");
  out.append("data: ");
  // find_first_of("\r\n") tests each byte against the set with a call
  // (the sources event is kilobytes); two memchr-backed finds instead, the
  // CR's position kept until it is passed (most text has none).
  std::size_t cr = data.find('\r');
  for (std::size_t i = 0; i < data.size();) {
    if (cr < i) cr = data.find('\r', i);
    const std::size_t end = std::min(data.find('\n', i), cr);
    if (end == std::string_view::npos) {
      out.append(data.substr(i));
      break;
    }
    out.append(data.substr(i, end - i)).append("\ndata: ");
    i = end + 1;
    if (data[end] == '\r' && i < data.size() && data[i] == '\n') ++i;
  }
  pending_cr_ = data.back() == '\r';
  out.append("\n\n");
  return out.size() - start;
}

std::string SseFramer::comment(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 4);
  out.append(": ").append(text).append("\n\n");
  return out;
}

}  // namespace chrysopedia::http
