#pragma once

#include <memory>

#include "chrysopedia/search/search_client.hpp"
#include "search/pg_pool.hpp"

namespace chrysopedia::search {

/// SearchClient over Postgres: each search runs the cascade on a pool
/// thread and resumes the caller on its own executor. A broken connection
/// (Postgres restarted) is retried once on a fresh one.
class PgSearchClient final : public SearchClient {
 public:
  PgSearchClient(std::shared_ptr<PgPool> pool, std::chrono::milliseconds timeout);
  boost::asio::awaitable<SearchResult> search(const SearchRequest& request) override;
  /// The cascade fused with the question's nearest documents by meaning.
  boost::asio::awaitable<SearchResult> search_with(const SearchRequest& request,
                                                   std::vector<long long> semantic_doc_ids);

 private:
  std::shared_ptr<PgPool> pool_;
  std::chrono::milliseconds timeout_;
};

}  // namespace chrysopedia::search
