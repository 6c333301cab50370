#include "openai/completion_request.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chrysopedia/chat/question.hpp"
#include "chrysopedia/http/media_type.hpp"
#include "openai/models_route.hpp"

namespace chrysopedia::openai {

namespace {

using nlohmann::json;

OpenAiError bad(std::string param, std::string message, std::string code = {}) {
  return {400, std::move(message), "invalid_request_error", std::move(param), std::move(code)};
}

// A message's text: a string, or text parts joined with "\n". Sets `error`
// (naming the part) for anything else.
std::optional<std::string> message_text(const json& content, const std::string& param,
                                        std::optional<OpenAiError>& error) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) {
    error = bad(param, fmt::format("'{}' must be a string or an array of text parts.", param));
    return std::nullopt;
  }
  std::string text;
  for (std::size_t j = 0; j < content.size(); ++j) {
    const auto& part = content[j];
    const std::string at = fmt::format("{}[{}]", param, j);
    const auto type = part.is_object() ? part.find("type") : part.end();
    if (!part.is_object() || type == part.end() || !type->is_string()) {
      error = bad(at, fmt::format("'{}' must be an object with a 'type'.", at));
      return std::nullopt;
    }
    if (*type != "text") {
      error = bad(at, fmt::format("'{}' is a {} part; this model reads text parts only.", at,
                                  type->get<std::string>()));
      return std::nullopt;
    }
    const auto t = part.find("text");
    if (t == part.end() || !t->is_string()) {
      error = bad(at, fmt::format("'{}' has no 'text' string.", at));
      return std::nullopt;
    }
    if (j > 0) text += '\n';
    text += t->get<std::string>();
  }
  return text;
}

std::optional<OpenAiError> read_options(const json& doc, CompletionAsk& ask) {
  if (const auto s = doc.find("stream"); s != doc.end() && !s->is_null()) {
    if (!s->is_boolean()) return bad("stream", "'stream' must be true or false.");
    ask.stream = s->get<bool>();
  }
  if (const auto o = doc.find("stream_options"); o != doc.end() && !o->is_null()) {
    const auto u = o->is_object() ? o->find("include_usage") : o->end();
    if (!o->is_object() || (u != o->end() && !u->is_boolean())) {
      return bad("stream_options", "'stream_options' must be {\"include_usage\": true|false}.");
    }
    if (u != o->end()) ask.include_usage = u->get<bool>();
  }
  if (const auto t = doc.find("temperature"); t != doc.end() && !t->is_null()) {
    if (!t->is_number() || t->get<double>() < 0 || t->get<double>() > 2) {
      return bad("temperature", "'temperature' must be a number from 0 to 2.");
    }
    ask.temperature = t->get<double>();
  }
  for (const char* name : {"max_tokens", "max_completion_tokens"}) {
    if (const auto m = doc.find(name); m != doc.end() && !m->is_null()) {
      if (!m->is_number_integer() || m->get<long long>() < 1 || m->get<long long>() > 1'000'000) {
        return bad(name, fmt::format("'{}' must be a whole number from 1 to 1000000.", name));
      }
      ask.max_tokens = static_cast<int>(m->get<long long>());
    }
  }
  if (const auto s = doc.find("stop"); s != doc.end() && !s->is_null()) {
    if (s->is_string()) {
      ask.stop.push_back(s->get<std::string>());
    } else if (s->is_array() && s->size() <= 4 &&
               std::all_of(s->begin(), s->end(), [](const json& x) { return x.is_string(); })) {
      for (const auto& x : *s) ask.stop.push_back(x.get<std::string>());
    } else {
      return bad("stop", "'stop' must be a string or an array of at most 4 strings.");
    }
  }
  if (const auto u = doc.find("user"); u != doc.end() && !u->is_null()) {
    if (!u->is_string()) return bad("user", "'user' must be a string.");
    ask.user = u->get<std::string>();
  }
  if (const auto c = doc.find("creator"); c != doc.end() && !c->is_null()) {
    if (!c->is_string())
      return bad("creator", "'creator' must be a creator's slug or name, or null.");
    auto creator = chat::check_creator(c->get_ref<const std::string&>(), "creator");
    if (!creator.ok()) return bad("creator", creator.problem);
    if (!creator.name.empty()) ask.creator = std::move(creator.name);
  }
  return std::nullopt;
}

}  // namespace

std::string OpenAiError::body() const {
  const auto or_null = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  return json{
      {"error",
       {{"message", message}, {"type", type}, {"param", or_null(param)}, {"code", or_null(code)}}}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

std::variant<CompletionAsk, OpenAiError> parse_completion_request(
    std::optional<std::string_view> content_type, std::string_view body) {
  if (http::json_content_type(content_type) != http::JsonContentType::json) {
    return OpenAiError{415, "Send the body as JSON in UTF-8, with Content-Type: application/json.",
                       "invalid_request_error", "", "unsupported_media_type"};
  }
  json doc;
  try {
    doc = json::parse(body);
  } catch (const json::exception&) {
    // Not only parse errors: a number past a double's range is out_of_range.
    return bad("", "The body is not valid JSON.", "invalid_json");
  }
  if (!doc.is_object()) return bad("", "The body must be a JSON object.", "invalid_json");

  const auto model = doc.find("model");
  if (model == doc.end() || !model->is_string()) {
    return bad("model", "'model' is required: this server's model is 'chrysopedia'.");
  }
  if (*model != kModelId) {
    return OpenAiError{404,
                       fmt::format("The model '{}' does not exist; this server has 'chrysopedia' "
                                   "(GET /v1/models).",
                                   model->get<std::string>()),
                       "invalid_request_error", "model", "model_not_found"};
  }

  const auto messages = doc.find("messages");
  if (messages == doc.end() || !messages->is_array() || messages->empty()) {
    return bad("messages", "'messages' must be a non-empty array of {role, content}.");
  }
  CompletionAsk ask;
  std::vector<history::Message> turns;
  std::optional<std::size_t> last_user;
  for (std::size_t i = 0; i < messages->size(); ++i) {
    const auto& m = (*messages)[i];
    const std::string at = fmt::format("messages[{}]", i);
    const auto role = m.is_object() ? m.find("role") : m.end();
    if (!m.is_object() || role == m.end() || !role->is_string()) {
      return bad(at, fmt::format("'{}' must be an object with a 'role'.", at));
    }
    const std::string r = *role;
    if (r == "tool" || r == "function") {
      return bad(at + ".role",
                 fmt::format("'{}' is a {} message; this model calls no tools.", at, r));
    }
    if (r != "system" && r != "developer" && r != "user" && r != "assistant") {
      return bad(at + ".role", fmt::format("'{}.role' must be system, developer, user or "
                                           "assistant, not '{}'.",
                                           at, r));
    }
    const auto content = m.find("content");
    std::string text;
    if (content != m.end() && !content->is_null()) {
      std::optional<OpenAiError> error;
      const auto t = message_text(*content, at + ".content", error);
      if (!t) return *error;
      text = *t;
    } else if (r != "assistant") {
      return bad(at + ".content", fmt::format("'{}.content' is required.", at));
    }
    if (r == "system" || r == "developer") {
      ask.system.push_back(std::move(text));
    } else {
      if (r == "user") last_user = turns.size();
      turns.push_back({r, std::move(text)});
    }
  }
  if (!last_user) return bad("messages", "'messages' has no user message: ask a question.");
  auto question = chat::check_question(turns[*last_user].content, "messages[].content");
  if (!question.ok()) return bad("messages", question.problem);
  ask.question = std::move(question.text);
  turns.resize(*last_user);
  ask.history = std::move(turns);
  if (auto error = read_options(doc, ask)) return *error;
  return ask;
}

}  // namespace chrysopedia::openai
