#include "search/page_record.hpp"

#include <nlohmann/json.hpp>

namespace chrysopedia::search {

namespace {

using nlohmann::json;

// Keeps one bad line from bloating the index or a prompt.
constexpr std::size_t kMaxShort = 300;     // slugs, names, headings, tags
constexpr std::size_t kMaxText = 100'000;  // a summary or a section's content
constexpr std::size_t kMaxSections = 200;
constexpr std::size_t kMaxTags = 100;

struct Bad {
  std::string reason;
};

std::string required_string(const json& obj, const char* key, const std::string& where,
                            std::size_t max) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) throw Bad{where + key + " is missing"};
  if (!it->is_string()) throw Bad{where + key + " must be a string"};
  auto value = it->get<std::string>();
  if (value.find('\0') != std::string::npos) throw Bad{where + key + " contains a NUL character"};
  if (value.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw Bad{where + key + " is empty"};
  }
  if (value.size() > max) {
    throw Bad{where + key + " is longer than " + std::to_string(max) + " bytes"};
  }
  return value;
}

std::string optional_string(const json& obj, const char* key, const std::string& where,
                            std::size_t max) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string()) throw Bad{where + key + " must be a string"};
  auto value = it->get<std::string>();
  if (value.find('\0') != std::string::npos) throw Bad{where + key + " contains a NUL character"};
  if (value.size() > max) {
    throw Bad{where + key + " is longer than " + std::to_string(max) + " bytes"};
  }
  return value;
}

bool valid_slug(const std::string& s) {
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                    (c >= 'A' && c <= 'Z') || c == '.';
    if (!ok) return false;
  }
  return true;
}

PageRecord parse(std::string_view line) {
  json doc;
  try {
    doc = json::parse(line);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 5: ..." → keep the tail
    if (const auto colon = what.find(": "); colon != std::string::npos)
      what = what.substr(colon + 2);
    throw Bad{"not valid JSON (" + what + ")"};
  }
  if (!doc.is_object()) throw Bad{"must be a JSON object (one technique page)"};

  PageRecord p;
  p.slug = required_string(doc, "slug", "", kMaxShort);
  if (!valid_slug(p.slug)) throw Bad{"slug may hold only letters, digits, '-', '_' and '.'"};
  p.title = required_string(doc, "title", "", kMaxShort);
  const auto creator = doc.find("creator");
  if (creator == doc.end() || creator->is_null()) throw Bad{"creator is missing"};
  if (!creator->is_object()) throw Bad{"creator must be an object with slug and name"};
  p.creator_slug = required_string(*creator, "slug", "creator.", kMaxShort);
  if (!valid_slug(p.creator_slug)) {
    throw Bad{"creator.slug may hold only letters, digits, '-', '_' and '.'"};
  }
  p.creator_name = required_string(*creator, "name", "creator.", kMaxShort);
  p.topic_category = optional_string(doc, "topic_category", "", kMaxShort);
  p.summary = optional_string(doc, "summary", "", kMaxText);

  if (const auto tags = doc.find("topic_tags"); tags != doc.end() && !tags->is_null()) {
    if (!tags->is_array()) throw Bad{"topic_tags must be an array of strings"};
    if (tags->size() > kMaxTags) throw Bad{"topic_tags has more than 100 entries"};
    for (const auto& t : *tags) {
      if (!t.is_string()) throw Bad{"topic_tags must be an array of strings"};
      auto tag = t.get<std::string>();
      if (tag.size() > kMaxShort) throw Bad{"a topic_tags entry is longer than 300 bytes"};
      if (tag.find('\0') != std::string::npos) throw Bad{"a topic_tags entry contains a NUL"};
      p.topic_tags.push_back(std::move(tag));
    }
  }

  if (const auto sections = doc.find("sections"); sections != doc.end() && !sections->is_null()) {
    if (!sections->is_array()) throw Bad{"sections must be an array of objects"};
    if (sections->size() > kMaxSections) throw Bad{"sections has more than 200 entries"};
    std::size_t n = 0;
    for (const auto& s : *sections) {
      ++n;
      const std::string where = "sections[" + std::to_string(n - 1) + "].";
      if (!s.is_object()) throw Bad{where.substr(0, where.size() - 1) + " must be an object"};
      PageRecord::Section sec;
      sec.anchor = optional_string(s, "anchor", where, kMaxShort);
      sec.heading = optional_string(s, "heading", where, kMaxShort);
      sec.content = optional_string(s, "content", where, kMaxText);
      if (sec.heading.empty() && sec.content.empty()) {
        throw Bad{where + "heading and " + where + "content are both empty"};
      }
      p.sections.push_back(std::move(sec));
    }
  }
  return p;
}

}  // namespace

std::optional<PageRecord> parse_page_record(std::string_view line, std::string& error) {
  try {
    return parse(line);
  } catch (const Bad& b) {
    error = b.reason;
  } catch (const json::exception& e) {
    error = std::string("invalid value (") + e.what() + ")";
  }
  return std::nullopt;
}

}  // namespace chrysopedia::search
