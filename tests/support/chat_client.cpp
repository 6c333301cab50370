#include "support/chat_client.hpp"

namespace chrysopedia::test {

ChatOutcome post_chat(std::uint16_t port, const std::string& body,
                      const std::string& content_type) {
  RawClient c(port);
  c.send(make_request("POST", "/api/v1/chat", body,
                      content_type.empty() ? "" : "Content-Type: " + content_type + "\r\n"));
  const auto r = c.read_response(std::chrono::seconds(30));
  ChatOutcome out;
  out.status = r.status;
  out.content_type = r.header("content-type");
  if (out.content_type == "text/event-stream") {
    out.events = parse_sse(r.body);
    for (const auto& e : out.events) {
      if (e.event == "token") out.text += e.data;
    }
  } else if (!r.body.empty()) {
    out.body = nlohmann::json::parse(r.body);
  }
  return out;
}

std::string chat_body(const std::string& query, const std::optional<std::string>& creator,
                      const std::optional<std::string>& conversation_id) {
  nlohmann::json j = {{"query", query}};
  if (creator) j["creator"] = *creator;
  if (conversation_id) j["conversation_id"] = *conversation_id;
  return j.dump();
}

}  // namespace chrysopedia::test
