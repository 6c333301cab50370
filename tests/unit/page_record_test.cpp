#include <gtest/gtest.h>

#include "search/page_record.hpp"

using chrysopedia::search::parse_page_record;

namespace {

std::string reason(const std::string& line) {
  std::string error;
  auto r = parse_page_record(line, error);
  EXPECT_FALSE(r) << line;
  return error;
}

}  // namespace

TEST(PageRecord, ParsesAFullLine) {
  std::string error;
  const auto r = parse_page_record(
      R"({"slug": "s", "title": "T", "creator": {"slug": "c", "name": "Zoë"},
          "topic_category": "mixing", "topic_tags": ["a", "b"], "summary": "S",
          "sections": [{"anchor": "x", "heading": "H", "content": "C"}]})",
      error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->slug, "s");
  EXPECT_EQ(r->creator_name, "Zoë");
  EXPECT_EQ(r->topic_tags, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(r->sections.size(), 1u);
  EXPECT_EQ(r->sections[0].content, "C");
}

TEST(PageRecord, OptionalFieldsMayBeMissingOrNull) {
  std::string error;
  const auto r = parse_page_record(
      R"({"slug": "s", "title": "T", "creator": {"slug": "c", "name": "C"},
          "topic_category": null, "topic_tags": null, "summary": null, "sections": null})",
      error);
  ASSERT_TRUE(r) << error;
  EXPECT_TRUE(r->sections.empty());
  EXPECT_EQ(r->summary, "");
}

TEST(PageRecord, ReasonsNameTheField) {
  EXPECT_EQ(reason(R"({"title": "T", "creator": {"slug": "c", "name": "C"}})"), "slug is missing");
  EXPECT_EQ(reason(R"({"slug": "s", "creator": {"slug": "c", "name": "C"}})"), "title is missing");
  EXPECT_EQ(reason(R"({"slug": "s", "title": "T"})"), "creator is missing");
  EXPECT_EQ(reason(R"({"slug": "s", "title": "T", "creator": "c"})"),
            "creator must be an object with slug and name");
  EXPECT_EQ(reason(R"({"slug": "s", "title": "T", "creator": {"name": "C"}})"),
            "creator.slug is missing");
  EXPECT_EQ(reason(R"({"slug": "s", "title": "  ", "creator": {"slug": "c", "name": "C"}})"),
            "title is empty");
  EXPECT_EQ(reason(R"({"slug": 1, "title": "T", "creator": {"slug": "c", "name": "C"}})"),
            "slug must be a string");
  EXPECT_EQ(
      reason(
          R"({"slug": "s", "title": "T", "creator": {"slug": "c", "name": "C"}, "topic_tags": [1]})"),
      "topic_tags must be an array of strings");
  EXPECT_EQ(reason(R"({"slug": "s", "title": "T", "creator": {"slug": "c", "name": "C"},
                       "sections": [{"heading": 3}]})"),
            "sections[0].heading must be a string");
  EXPECT_EQ(reason(R"({"slug": "s", "title": "T", "creator": {"slug": "c", "name": "C"},
                       "sections": [{"anchor": "a"}]})"),
            "sections[0].heading and sections[0].content are both empty");
  EXPECT_EQ(reason(R"({"slug": "s\u0000", "title": "T", "creator": {"slug": "c", "name": "C"}})"),
            "slug contains a NUL character");
  EXPECT_EQ(reason("[]"), "must be a JSON object (one technique page)");
  EXPECT_EQ(reason("{\"slug\": \"a\xff\"}").rfind("not valid JSON", 0), 0u);
  EXPECT_EQ(reason("{trailing").rfind("not valid JSON", 0), 0u);
  EXPECT_EQ(reason(R"({"slug": "s", "title": ")" + std::string(400, 'x') +
                   R"(", "creator": {"slug": "c", "name": "C"}})"),
            "title is longer than 300 bytes");
}
