#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace chrysopedia::search {

/// One search hit: a technique page, or one section of a page (SPEC §2).
struct SearchItem {
  std::string title;  ///< the page's
  std::string slug;   ///< the page's
  std::string creator_name;
  std::string topic_category;
  std::string summary;          ///< the page summary, or the section's text
  std::string section_anchor;   ///< "" for a page-level hit
  std::string section_heading;  ///< "" for a page-level hit
  bool operator==(const SearchItem&) const = default;
};

struct SearchRequest {
  std::string query;
  std::optional<std::string> creator;  ///< slug or name, any case
  int limit = 10;
  /// The conversation's earlier user questions, oldest first: a follow-up
  /// ("and a softer one?") is searched in their light.
  std::vector<std::string> context = {};
};

struct SearchResult {
  std::vector<SearchItem> items;  ///< best first
  std::string cascade_tier;       ///< "creator", "global", "fuzzy" or "none"
  std::string searched_query;     ///< what was searched: the question, or it in context
  /// What the semantic search did: "" when it is not configured, "fused",
  /// or why it was left out ("loading", "empty", "mismatch", "failed",
  /// "timeout").
  std::string semantic = {};
};

/// The search failed (database down, timed out, ...). The message is for
/// logs, not for users.
class SearchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The retrieval cascade behind an interface, so the chat can be tested
/// with a fake and the backend swapped.
class SearchClient {
 public:
  virtual ~SearchClient() = default;

  /// Runs the cascade. Throws SearchError on failure; cancellable (the
  /// awaiting coroutine resumes at once with operation_aborted).
  virtual boost::asio::awaitable<SearchResult> search(const SearchRequest& request) = 0;

  /// For /readyz: empty when the backend answers a trivial query within
  /// `timeout`, else why not (for the log, not for callers). Never throws.
  virtual boost::asio::awaitable<std::string> readiness(std::chrono::milliseconds timeout) = 0;
};

}  // namespace chrysopedia::search
