#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "chrysopedia/search/search_client.hpp"
#include "search/list_cache.hpp"
#include "search/pg_pool.hpp"

namespace chrysopedia::search {

/// SearchClient over Postgres: each search runs the cascade on a pool
/// thread and resumes the caller on its own executor. A broken connection
/// (Postgres restarted) is retried once on a fresh one.
class PgSearchClient final : public SearchClient {
 public:
  PgSearchClient(std::shared_ptr<PgPool> pool, std::chrono::milliseconds timeout);
  boost::asio::awaitable<SearchResult> search(const SearchRequest& request) override;
  boost::asio::awaitable<std::string> readiness(std::chrono::milliseconds timeout) override;
  /// The question's nearest documents by meaning (ids, best first); run on
  /// the pool thread, as an index lookup is CPU work an I/O loop should not
  /// wait on.
  using Neighbours = std::function<std::vector<long long>()>;
  /// The cascade fused with the documents `neighbours` finds (none when empty).
  boost::asio::awaitable<SearchResult> search_with(const SearchRequest& request,
                                                   Neighbours neighbours);
  /// The champion lists kept between searches (hits, misses, size).
  ListCache::Stats list_cache_stats() const { return lists_->stats(); }

 private:
  std::shared_ptr<PgPool> pool_;
  std::chrono::milliseconds timeout_;
  // Shared by the pool's threads; a search holds it through its job.
  std::shared_ptr<ListCache> lists_;
};

}  // namespace chrysopedia::search
