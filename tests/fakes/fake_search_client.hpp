#pragma once

#include <vector>

#include "chrysopedia/search/search_client.hpp"

namespace chrysopedia::test {

/// A SearchClient that answers what the test set, or fails, and keeps what
/// it was asked.
class FakeSearchClient final : public search::SearchClient {
 public:
  search::SearchResult result{{}, "none", ""};
  bool fail = false;
  std::vector<search::SearchRequest> asked;

  boost::asio::awaitable<search::SearchResult> search(const search::SearchRequest& r) override {
    asked.push_back(r);
    if (fail) throw search::SearchError("connection refused");
    auto out = result;
    if (out.searched_query.empty()) out.searched_query = r.query;
    co_return out;
  }
  boost::asio::awaitable<std::string> readiness(std::chrono::milliseconds) override {
    co_return fail ? std::string("connection refused") : std::string();
  }
};

}  // namespace chrysopedia::test
