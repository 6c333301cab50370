#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace chrysopedia::chat {

/// A valid `POST /api/v1/chat` body (SPEC §1).
struct ChatRequest {
  std::string query;  ///< trimmed, 1-2000 characters
  std::optional<std::string> creator;
  std::optional<std::string> conversation_id;
};

/// Why a body was refused: the HTTP status, a stable code and a message
/// that names the field and says what to send instead.
struct ChatRequestError {
  int status;
  std::string code;
  std::string message;
};

/// Validates a request: its Content-Type and its JSON body.
std::variant<ChatRequest, ChatRequestError> parse_chat_request(
    std::optional<std::string_view> content_type, std::string_view body);

/// `^[A-Za-z0-9_-]{1,64}$`
bool valid_conversation_id(std::string_view id);

/// The position (in characters) of the first control character that no
/// question needs (C0 but tab, LF and CR; DEL; C1), or nullopt.
std::optional<std::size_t> first_control_character(std::string_view text);

/// "Field '<field>' contains the control character U+XXXX at character N; ..."
std::string control_character_message(std::string_view field, std::string_view text,
                                      std::size_t at);

/// Number of Unicode characters in valid UTF-8, or nullopt if it is not.
std::optional<std::size_t> utf8_length(std::string_view text);

}  // namespace chrysopedia::chat
