#pragma once

#include <string>

namespace chrysopedia::test {

/// A fresh, migrated database on the Postgres that scripts/test started,
/// dropped again when the test ends; tests never see each other's data.
class TestDatabase {
 public:
  TestDatabase();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& url() const { return url_; }

  /// Imports JSON Lines text; throws if any line is bad.
  void import(const std::string& jsonl) const;

  /// Runs SQL and returns the first column of the first row as text.
  std::string scalar(const std::string& sql) const;

  /// Makes this a database from before migration 8 (the fuzzy tier's
  /// words): its tables and function gone, the trigram index back, the
  /// migration unrecorded.
  void undo_fuzzy_words_migration() const;

 private:
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

/// The text of data/sample-corpus.jsonl, for suites that import it.
std::string sample_corpus();

/// The server URL scripts/test exported (fails the test when missing).
std::string test_postgres_url();

/// Builds one import line.
std::string page_line(const std::string& slug, const std::string& title,
                      const std::string& creator_slug, const std::string& creator_name,
                      const std::string& category, const std::string& summary,
                      const std::string& sections_json = "[]", const std::string& tags_json = "[]");

}  // namespace chrysopedia::test
