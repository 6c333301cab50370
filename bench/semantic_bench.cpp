// Semantic search at scale (issue 16, point 4), against the corpus already
// imported into DATABASE_URL:
//
//   DIM=768 [INDEX_MAX_MIB=512] semantic_bench QUESTIONS.jsonl [QUERIES]
//
// 1. embeds every document without a vector (the fake's bag-of-words model,
//    in process: this measures storing, not a model), 2. builds the index and
//    stores it, as the embedding pass does at its end, 3. loads the replica's
//    SemanticIndex as the service does (from the stored index) and reports
//    the time to ready and the memory it took (RSS growth and the index's
//    own count), 4. per question:
//    the nearest-neighbour lookup, and the search statement without and with
//    the fused neighbours on one warm connection. Prints Markdown rows.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "bench/percentile.hpp"
#include "fakes/fake_llm_server.hpp"
#include "search/cascade.hpp"
#include "search/embedding_store.hpp"
#include "search/semantic_index.hpp"

using namespace chrysopedia;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> value;
      return value;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::getenv("DATABASE_URL")) {
    std::cerr << "usage: DATABASE_URL=... [DIM=768] semantic_bench QUESTIONS.jsonl [QUERIES]\n";
    return 2;
  }
  const std::string url = std::getenv("DATABASE_URL");
  const int dim = std::getenv("DIM") ? std::atoi(std::getenv("DIM")) : 768;
  const std::size_t max_queries = argc > 2 ? std::stoul(argv[2]) : 1000;
  const std::string model = fmt::format("fake-bench-{}", dim);

  pqxx::connection conn(url);
  const auto embed_started = Clock::now();
  std::size_t embedded = 0;
  for (long long after = 0;;) {
    const auto batch = search::pending_embedding_texts(conn, after, 1000);
    if (batch.empty()) break;
    std::vector<std::vector<float>> vectors;
    for (const auto& t : batch) vectors.push_back(test::fake_embedding(t.text, dim));
    search::store_embeddings(conn, {model, dim}, batch, vectors);
    after = batch.back().doc_id;
    embedded += batch.size();
  }
  const double embed_s = ms_since(embed_started) / 1000;

  // What the embedding pass does at its end: build the index once, store it.
  const std::size_t max_bytes =
      std::getenv("INDEX_MAX_MIB") ? std::stoul(std::getenv("INDEX_MAX_MIB")) << 20 : 512u << 20;
  const auto build_started = Clock::now();
  search::build_and_store_index(conn, *search::recorded_embedding_model(conn), max_bytes);
  const double build_s = ms_since(build_started) / 1000;

  // What a replica does at start: load the stored index.
  const long rss_before = rss_kib();
  const auto load_started = Clock::now();
  search::SemanticIndex::Options o;
  o.database_url = url;
  o.model = model;
  o.max_bytes = max_bytes;
  search::SemanticIndex semantic(o);
  if (!semantic.wait_loaded(std::chrono::hours(1)) || !semantic.current()) {
    std::cerr << "the index did not load: " << search::SemanticIndex::name(semantic.state())
              << "\n";
    return 1;
  }
  const double load_s = ms_since(load_started) / 1000;
  const long rss_after = rss_kib();
  const auto index = semantic.current();

  std::ifstream in(argv[1]);
  std::vector<std::string> questions;
  for (std::string line; std::getline(in, line) && questions.size() < max_queries;) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    questions.push_back(j.contains("question") ? j["question"].get<std::string>()
                                               : j["query"].get<std::string>());
  }
  search::configure_search_session(conn, 10'000);
  std::vector<double> knn, text_only, fused;
  for (int pass = 0; pass < 2; ++pass) {  // the first pass warms caches and plans
    for (const auto& q : questions) {
      const auto v = test::fake_embedding(q, dim);
      auto t = Clock::now();
      std::vector<long long> ids;
      for (const auto& h : index->nearest(v.data(), 20)) ids.push_back(h.doc_id);
      const double k = ms_since(t);
      t = Clock::now();
      search::run_cascade(conn, {q, std::nullopt, 10});
      const double a = ms_since(t);
      t = Clock::now();
      search::run_cascade(conn, {q, std::nullopt, 10}, ids);
      const double b = ms_since(t);
      if (pass == 1) {
        knn.push_back(k);
        text_only.push_back(a);
        fused.push_back(b + k);
      }
    }
  }
  using bench::percentile;
  std::cout << fmt::format(
      "| {} | {} ({} bits) | {} | {:.0f} s ({} new) | {:.0f} s | {:.1f} s | {:.0f} MiB ({:.0f} MiB "
      "counted) | {:.2f} / "
      "{:.2f} | {:.2f} / {:.2f} | {:.2f} / {:.2f} |\n",
      index->size(), dim, index->bits(), questions.size(), embed_s, embedded, build_s, load_s,
      (rss_after - rss_before) / 1024.0, index->memory_bytes() / 1048576.0,
      percentile(knn, 50), percentile(knn, 95), percentile(text_only, 50),
      percentile(text_only, 95), percentile(fused, 50), percentile(fused, 95));
  return 0;
}
