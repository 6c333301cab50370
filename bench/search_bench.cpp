// Search latency and throughput through the service's own search client
// (pool threads + the cascade), against the database in DATABASE_URL.
//
//   search_bench [QUERIES] [CONCURRENCY] [SEED]
//   QUERIES_FILE=questions.jsonl search_bench [QUERIES] [CONCURRENCY]
//   QUERY_SHAPE=long search_bench ...   6-15-word questions of the same terms
//   SLOWEST=N search_bench ...   also the N slowest measured searches
//   MISSPELL=1 search_bench ...   each question with its longest word misspelt
//   POOL_SIZE=4 search_bench ...   connections in the pool (default: CONCURRENCY)
//   PAUSE_MS=200 search_bench ...   idle before each measured search (one user's pace)
//   DEBUG_LOG=1 search_bench ...   each search's search_timing log line, per part
//
// Queries are 1-4 music-production words drawn the way users would (common
// words more often); a tenth of them name a creator. Prints a Markdown table.
#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "bench/percentile.hpp"
#include "bench/vocabulary.hpp"
#include "search/cascade.hpp"
#include "search/pg_pool.hpp"
#include "search/pg_search_client.hpp"

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;
using namespace chrysopedia;

namespace {

// Which of the terms a query word is: common words more often.
std::discrete_distribution<std::size_t> term_distribution() {
  std::vector<double> weights;
  for (std::size_t i = 0; i < bench::kTerms.size(); ++i)
    weights.push_back(1.0 / std::pow(i + 1.0, 0.9));
  return {weights.begin(), weights.end()};
}

std::vector<search::SearchRequest> make_queries(int n, unsigned seed) {
  std::mt19937_64 rng(seed);
  auto term = term_distribution();
  std::uniform_int_distribution<int> length(1, 4);
  std::vector<search::SearchRequest> out;
  for (int i = 0; i < n; ++i) {
    search::SearchRequest r;
    for (int w = length(rng); w > 0; --w) {
      r.query += (r.query.empty() ? "" : " ") + std::string(bench::kTerms[term(rng)]);
    }
    if (i % 10 == 0) r.creator = "creator-" + std::to_string(rng() % 50);
    r.limit = 10;
    out.push_back(std::move(r));
  }
  return out;
}

// Questions as users type them, over the same vocabulary: 6-15 words,
// a question word and stop words around 2-6 of the terms.
std::vector<search::SearchRequest> make_long_queries(int n, unsigned seed) {
  static constexpr std::array<std::string_view, 8> kOpen = {
      "how do I", "what",  "why does my",   "should I",
      "which",    "can I", "how can I get", "is it ok to"};
  static constexpr std::array<std::string_view, 12> kGlue = {
      "the", "my", "for", "on", "a", "with", "in", "to", "and", "when", "of", "it"};
  std::mt19937_64 rng(seed);
  auto term = term_distribution();
  std::uniform_int_distribution<int> length(6, 15);
  std::vector<search::SearchRequest> out;
  for (int i = 0; i < n; ++i) {
    search::SearchRequest r;
    r.query = std::string(kOpen[rng() % kOpen.size()]);
    const int want = length(rng);
    int words = 1 + static_cast<int>(std::count(r.query.begin(), r.query.end(), ' '));
    while (words < want) {
      r.query += " ";
      r.query += rng() % 5 < 2 ? bench::kTerms[term(rng)] : kGlue[rng() % kGlue.size()];
      ++words;
    }
    r.query += "?";
    if (i % 10 == 0) r.creator = "creator-" + std::to_string(rng() % 50);
    r.limit = 10;
    out.push_back(std::move(r));
  }
  return out;
}

// The question with one slip in its longest word of 5+ letters (the word a
// question is most likely about): every other question two letters swapped,
// the mending's gentle tier; the rest a letter dropped, which words of 7+
// letters are mended from by the wider one (src/search/spelling.hpp).
std::string misspell(const std::string& query, std::size_t nth) {
  std::size_t best = 0, best_len = 0;
  for (std::size_t i = 0; i < query.size();) {
    std::size_t j = i;
    while (j < query.size() && std::isalpha(static_cast<unsigned char>(query[j]))) ++j;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j == i ? i + 1 : j;
  }
  if (best_len < 5) return query;
  std::string out = query;
  const std::size_t at = best + best_len / 2;
  if (nth % 2 == 0) {
    std::swap(out[at], out[at - 1]);
  } else {
    out.erase(at, 1);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("DEBUG_LOG")) spdlog::set_level(spdlog::level::debug);
  const int queries = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int concurrency = argc > 2 ? std::atoi(argv[2]) : 2;
  const unsigned seed = argc > 3 ? std::atoi(argv[3]) : 7;
  const char* url = std::getenv("DATABASE_URL");
  if (!url) {
    std::cerr << "search_bench: set DATABASE_URL\n";
    return 2;
  }
  search::PgPool::Options options;
  options.url = url;
  // POOL_SIZE: the connections (the service's SEARCH_POOL_SIZE); by
  // default one per client. A follow-up uses two at once.
  options.size = std::getenv("POOL_SIZE") ? std::atoi(std::getenv("POOL_SIZE")) : concurrency;
  options.on_connect = [](pqxx::connection_base& c) { search::configure_search_session(c, 10000); };
  // LIST_CACHE_MIB: the champion lists the client keeps in memory (0:
  // none, so every search reads them, as a question of new words does).
  const char* cache_mib = std::getenv("LIST_CACHE_MIB");
  const std::size_t cache_bytes =
      cache_mib ? std::size_t(std::atoi(cache_mib)) << 20 : search::PgSearchClient::kListCacheBytes;
  search::PgSearchClient client(std::make_shared<search::PgPool>(options), std::chrono::seconds(30),
                                {}, std::chrono::seconds(5), cache_bytes);
  // QUERIES_FILE: questions of another shape (JSON lines with "query" and
  // "creator", as bench/flat_corpus writes them), taken in order, cycled.
  std::vector<search::SearchRequest> requests;
  if (const char* file = std::getenv("QUERIES_FILE")) {
    std::ifstream in(file);
    std::vector<search::SearchRequest> given;
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      const auto j = nlohmann::json::parse(line);
      search::SearchRequest r;
      r.query = j.contains("query") ? j["query"].get<std::string>() : j.value("question", "");
      if (j.contains("creator") && j["creator"].is_string()) r.creator = j["creator"];
      given.push_back(std::move(r));
    }
    if (given.empty()) {
      std::cerr << "search_bench: no questions in " << file << "\n";
      return 2;
    }
    for (int i = 0; i < queries; ++i) requests.push_back(given[i % given.size()]);
  } else if (const char* shape = std::getenv("QUERY_SHAPE");
             shape && std::string(shape) == "long") {
    requests = make_long_queries(queries, seed);
  } else {
    requests = make_queries(queries, seed);
  }

  if (const char* m = std::getenv("MISSPELL"); m && std::string(m) == "1") {
    for (std::size_t i = 0; i < requests.size(); ++i)
      requests[i].query = misspell(requests[i].query, i);
  }

  // IN_CONTEXT=1: each question a follow-up, in a conversation whose
  // earlier question is the one before it in the list (another subject:
  // the search in context and the follow-up's own words both run).
  if (const char* c = std::getenv("IN_CONTEXT"); c && std::string(c) == "1") {
    for (std::size_t i = requests.size(); i-- > 1;) requests[i].context = {requests[i - 1].query};
  }

  // PAUSE_MS: idle this long before each measured search.
  const std::chrono::milliseconds pause(std::getenv("PAUSE_MS") ? std::atoi(std::getenv("PAUSE_MS"))
                                                                : 0);
  std::vector<double> latencies_ms(requests.size());
  std::vector<std::string> tier_of(requests.size());
  std::map<std::string, int> tiers;
  std::map<int, std::vector<double>> by_words;
  std::vector<double> with_creator, without_creator;
  int errors = 0;
  auto run = [&](bool record) {
    net::io_context ctx;
    std::size_t next = 0;
    for (int c = 0; c < concurrency; ++c) {
      net::co_spawn(
          ctx,
          [&]() -> net::awaitable<void> {
            while (next < requests.size()) {
              const std::size_t i = next++;
              if (record && pause.count() > 0) {
                // One user's pace: the backend and the pool thread idle
                // between searches, as they do while an answer streams.
                net::steady_timer idle(co_await net::this_coro::executor, pause);
                co_await idle.async_wait(net::use_awaitable);
              }
              const auto start = Clock::now();
              try {
                const auto result = co_await client.search(requests[i]);
                if (record) ++tiers[tier_of[i] = result.cascade_tier];
              } catch (const std::exception& e) {
                if (record && ++errors < 5) std::cerr << "error: " << e.what() << "\n";
              }
              if (record) {
                const double ms =
                    std::chrono::duration<double, std::milli>(Clock::now() - start).count();
                latencies_ms[i] = ms;
                const int words = 1 + static_cast<int>(std::count(requests[i].query.begin(),
                                                                  requests[i].query.end(), ' '));
                by_words[words].push_back(ms);
                (requests[i].creator ? with_creator : without_creator).push_back(ms);
              }
            }
          },
          net::detached);
    }
    ctx.run();
  };
  run(false);  // warm the caches
  const auto start = Clock::now();
  run(true);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  std::cout << fmt::format(
      "| queries | concurrency | p50 ms | p95 ms | p99 ms | max ms | queries/s | errors |\n");
  std::cout << "|---|---|---|---|---|---|---|---|\n";
  std::cout << fmt::format("| {} | {} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.0f} | {} |\n",
                           queries, concurrency, bench::percentile(latencies_ms, 50),
                           bench::percentile(latencies_ms, 95), bench::percentile(latencies_ms, 99),
                           bench::percentile(latencies_ms, 100), queries / seconds, errors);
  std::cout << "\n| words | queries | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|---|\n";
  for (const auto& [words, v] : by_words) {
    std::cout << fmt::format("| {} | {} | {:.2f} | {:.2f} | {:.2f} |\n", words, v.size(),
                             bench::percentile(v, 50), bench::percentile(v, 95),
                             bench::percentile(v, 99));
  }
  std::cout << fmt::format("| no creator | {} | {:.2f} | {:.2f} | {:.2f} |\n",
                           without_creator.size(), bench::percentile(without_creator, 50),
                           bench::percentile(without_creator, 95),
                           bench::percentile(without_creator, 99));
  std::cout << fmt::format("| with creator | {} | {:.2f} | {:.2f} | {:.2f} |\n",
                           with_creator.size(), bench::percentile(with_creator, 50),
                           bench::percentile(with_creator, 95),
                           bench::percentile(with_creator, 99));
  std::cout << "\ntiers:";
  for (const auto& [tier, n] : tiers) std::cout << " " << tier << "=" << n;
  std::cout << "\n";
  if (const char* slowest = std::getenv("SLOWEST")) {
    std::vector<std::size_t> order(requests.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    const auto n = std::min(order.size(), std::size_t(std::max(std::atoi(slowest), 0)));
    std::partial_sort(order.begin(), order.begin() + n, order.end(),
                      [&](auto a, auto b) { return latencies_ms[a] > latencies_ms[b]; });
    std::cout << "\n| # | ms | tier | creator | query |\n|---|---|---|---|---|\n";
    for (std::size_t k = 0; k < n; ++k) {
      const auto i = order[k];
      std::cout << fmt::format("| {} | {:.2f} | {} | {} | {} |\n", i, latencies_ms[i], tier_of[i],
                               requests[i].creator.value_or(""), requests[i].query);
    }
  }
  return errors == 0 ? 0 : 1;
}
