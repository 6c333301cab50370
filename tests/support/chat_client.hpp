#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/raw_client.hpp"
#include "support/sse_parser.hpp"

namespace chrysopedia::test {

/// One chat as a client sees it.
struct ChatOutcome {
  int status = 0;
  std::string content_type;
  std::vector<SseEvent> events;
  std::string text;     ///< the token events' data, joined
  nlohmann::json body;  ///< for non-stream answers

  const SseEvent* find(const std::string& name) const {
    for (const auto& e : events) {
      if (e.event == name) return &e;
    }
    return nullptr;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (out.empty() || out.back() != e.event) out.push_back(e.event);
    }
    return out;
  }
};

/// Posts `body` to /api/v1/chat on 127.0.0.1:port and reads the whole answer.
ChatOutcome post_chat(std::uint16_t port, const std::string& body,
                      const std::string& content_type = "application/json");

/// The JSON body for a question.
std::string chat_body(const std::string& query, const std::optional<std::string>& creator = {},
                      const std::optional<std::string>& conversation_id = {});

}  // namespace chrysopedia::test
