#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chrysopedia::search {

/// One technique page as the import format carries it (SPEC §2).
struct PageRecord {
  struct Section {
    std::string anchor;
    std::string heading;
    std::string content;
  };
  std::string slug;
  std::string title;
  std::string creator_slug;
  std::string creator_name;
  std::string topic_category;
  std::vector<std::string> topic_tags;
  std::string summary;
  std::vector<Section> sections;
};

/// Parses and validates one JSON line. On failure returns nullopt and sets
/// `error` to a reason a person can act on ("slug is missing", ...).
std::optional<PageRecord> parse_page_record(std::string_view line, std::string& error);

}  // namespace chrysopedia::search
