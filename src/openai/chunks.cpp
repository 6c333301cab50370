#include "openai/chunks.hpp"

#include <chrono>

#include <nlohmann/json.hpp>

#include "common/hex.hpp"
#include "common/json_string.hpp"
#include "common/os_random.hpp"
#include "openai/models_route.hpp"

namespace chrysopedia::openai {

namespace {

using ordered = nlohmann::ordered_json;

std::string dump(const ordered& j) {
  // `replace`: text from the model or the pages is valid UTF-8 by the time
  // it is here, but an encoder must never throw mid-stream.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ordered usage_json(const std::optional<chat::TurnUsage>& usage) {
  if (!usage) return nullptr;
  return ordered{{"prompt_tokens", usage->prompt_tokens},
                 {"completion_tokens", usage->completion_tokens},
                 {"total_tokens", usage->prompt_tokens + usage->completion_tokens}};
}

// `"citations":[...],"sources":[...]` (the sources already JSON).
std::string sources_tail(const std::vector<std::string>& urls, std::string_view sources_json) {
  std::string out = ",\"citations\":" + dump(ordered(urls));
  out.append(",\"sources\":").append(sources_json.empty() ? std::string_view("[]") : sources_json);
  return out;
}

}  // namespace

CompletionHead new_completion_head() {
  unsigned char bytes[12];
  common::os_random_bytes(bytes, sizeof bytes);
  CompletionHead head;
  head.id = "chatcmpl-" + common::to_hex(bytes, sizeof bytes);
  head.created = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  return head;
}

ChunkEncoder::ChunkEncoder(CompletionHead head) : head_(std::move(head)) {
  content_prefix_ = object_head("chat.completion.chunk");
  content_prefix_.append(",\"choices\":[{\"index\":0,\"delta\":{\"content\":");
}

std::string ChunkEncoder::object_head(std::string_view object) const {
  // Keys in the order OpenAI writes them; `system_fingerprint` null, as
  // OpenAI allows.
  std::string out = "{\"id\":";
  common::append_json_string(out, head_.id);
  out.append(",\"object\":\"").append(object).append("\",\"created\":");
  out.append(std::to_string(head_.created));
  out.append(",\"model\":\"").append(kModelId).append("\",\"system_fingerprint\":null");
  return out;
}

std::string ChunkEncoder::role() const {
  return object_head("chat.completion.chunk") +
         ",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
         "\"logprobs\":null,\"finish_reason\":null}]}";
}

void ChunkEncoder::append_content(std::string& out, std::string_view delta) const {
  out.append(content_prefix_);
  common::append_json_string(out, delta);
  out.append("},\"logprobs\":null,\"finish_reason\":null}]}");
}

std::string ChunkEncoder::last(std::string_view reason, const std::vector<std::string>& urls,
                               std::string_view sources_json) const {
  std::string out = object_head("chat.completion.chunk");
  out.append(",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"");
  out.append(finish_reason(reason)).append("\"}]");
  out.append(sources_tail(urls, sources_json));
  out.push_back('}');
  return out;
}

std::string ChunkEncoder::usage(const std::optional<chat::TurnUsage>& usage) const {
  return object_head("chat.completion.chunk") +
         ",\"choices\":[],\"usage\":" + dump(usage_json(usage)) + "}";
}

std::string error_object(std::string_view message, std::string_view type, std::string_view code) {
  return dump(ordered{{"error",
                       {{"message", message},
                        {"type", type},
                        {"param", nullptr},
                        {"code", code.empty() ? ordered(nullptr) : ordered(code)}}}});
}

std::string_view finish_reason(std::string_view upstream) {
  if (upstream == "length" || upstream == "content_filter") return upstream;
  return "stop";
}

std::vector<std::size_t> code_point_offsets(std::string_view text,
                                            const std::vector<std::size_t>& byte_offsets) {
  std::vector<std::size_t> out;
  out.reserve(byte_offsets.size());
  std::size_t byte = 0;
  std::size_t points = 0;
  for (std::size_t target : byte_offsets) {
    for (; byte < target && byte < text.size(); ++byte) {
      // Every byte but a continuation byte starts a code point.
      if ((static_cast<unsigned char>(text[byte]) & 0xC0) != 0x80) ++points;
    }
    out.push_back(points);
  }
  return out;
}

std::string completion_object(const CompletionHead& head, const chat::Answered& answer,
                              const std::vector<chat::SourceRef>& sources,
                              const std::vector<std::string>& urls, std::string_view sources_json) {
  std::vector<std::size_t> offsets;
  offsets.reserve(answer.markers.size() * 2);
  for (const auto& m : answer.markers) {
    offsets.push_back(m.begin);
    offsets.push_back(m.end);
  }
  // Markers come in order of their start, and spans do not overlap, so the
  // offsets ascend.
  const auto points = code_point_offsets(answer.text, offsets);
  ordered annotations = ordered::array();
  for (std::size_t i = 0; i < answer.markers.size(); ++i) {
    for (int n : answer.markers[i].numbers) {
      if (n < 1 || static_cast<std::size_t>(n) > sources.size()) continue;  // names no source
      const auto at = static_cast<std::size_t>(n - 1);
      annotations.push_back({{"type", "url_citation"},
                             {"url_citation",
                              {{"url", urls[at]},
                               {"title", sources[at].title},
                               {"start_index", points[2 * i]},
                               {"end_index", points[2 * i + 1]}}}});
    }
  }
  ordered message = {{"role", "assistant"},
                     {"content", answer.text},
                     {"refusal", nullptr},
                     {"annotations", std::move(annotations)}};
  ordered object = {
      {"id", head.id},
      {"object", "chat.completion"},
      {"created", head.created},
      {"model", kModelId},
      {"system_fingerprint", nullptr},
      {"choices", ordered::array({{{"index", 0},
                                   {"message", std::move(message)},
                                   {"logprobs", nullptr},
                                   {"finish_reason", finish_reason(answer.finish_reason)}}})},
      {"usage", usage_json(answer.usage)}};
  std::string out = dump(object);
  out.pop_back();  // the closing brace: the citations and sources follow
  out.append(sources_tail(urls, sources_json));
  out.push_back('}');
  return out;
}

}  // namespace chrysopedia::openai
