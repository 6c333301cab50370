#include "app/embed_command.hpp"

#include <chrono>
#include <iostream>
#include <thread>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "app/worker_peers.hpp"
#include "llm/curl_loop.hpp"
#include "llm/openai_embeddings_client.hpp"
#include "search/database.hpp"
#include "search/embedding_store.hpp"
#include "search/migrations.hpp"
#include "search/semantic_index.hpp"

namespace chrysopedia::app {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;
using Vectors = std::vector<std::vector<float>>;

namespace {

// One request, run to its end on `ctx`; a failed one is tried twice more
// (a model server busy or restarting), then its error is thrown.
Vectors embed_batch(net::io_context& ctx, search::Embedder& embedder,
                    const std::vector<std::string>& texts) {
  for (int attempt = 1;; ++attempt) {
    bool done = false;
    Vectors vectors;
    std::exception_ptr error;
    net::co_spawn(ctx, embedder.embed(texts), [&](std::exception_ptr e, Vectors v) {
      error = e;
      vectors = std::move(v);
      done = true;
    });
    ctx.restart();
    while (!done) ctx.run_one();
    if (!error) return vectors;
    if (attempt == 3) std::rethrow_exception(error);
    std::this_thread::sleep_for(std::chrono::milliseconds(500 * attempt));
  }
}

}  // namespace

bool embed_pending(const config::Settings& settings, search::Database& db, bool rebuild) {
  auto& conn = db.connection();
  const std::string& model = settings.embeddings_model;
  if (rebuild) search::clear_embeddings(conn);
  if (const auto recorded = search::recorded_embedding_model(conn);
      recorded && recorded->model != model) {
    std::cerr << "embedding refused: " << search::model_mismatch_message(*recorded, model) << "\n";
    return false;
  }
  const auto progress = search::embedding_progress(conn);
  std::cerr << fmt::format("embeddings: {} of {} document(s) to embed with {}\n", progress.pending,
                           progress.documents, model);
  net::io_context ctx;
  const auto multi = llm::make_curl_multi(ctx);
  auto options = embeddings_options(settings);
  options.timeout = std::chrono::seconds(120);  // a batch, not a question
  options.connect_timeout = std::chrono::seconds(10);
  llm::OpenAiEmbeddingsClient embedder(*multi, options);

  const auto started = Clock::now();
  auto last_report = started;
  std::size_t done = 0;
  long long after = 0;
  try {
    for (;;) {
      const auto batch = search::pending_embedding_texts(
          conn, after, static_cast<std::size_t>(settings.embeddings_batch_size));
      if (batch.empty()) break;
      std::vector<std::string> texts;
      texts.reserve(batch.size());
      for (const auto& t : batch) texts.push_back(t.text);
      const auto vectors = embed_batch(ctx, embedder, texts);
      const int dimension = vectors.empty() ? 0 : static_cast<int>(vectors.front().size());
      search::store_embeddings(conn, {model, dimension}, batch, vectors);
      after = batch.back().doc_id;
      done += batch.size();
      if (Clock::now() - last_report > std::chrono::seconds(2)) {
        last_report = Clock::now();
        std::cerr << fmt::format("embeddings: {} of {} done\n", done, progress.pending);
      }
    }
  } catch (const std::exception& e) {
    std::cerr << fmt::format(
        "embedding stopped: {}\n{} of {} embedded and kept; run `chrysopedia-chat embed` to go "
        "on from there\n",
        e.what(), done, progress.pending);
    return false;
  }
  const auto pruned = search::prune_embeddings(conn);
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::cerr << fmt::format(
      "embeddings: {} text(s) embedded in {:.1f} s{}; all {} document(s) "
      "have a vector\n",
      done, seconds, pruned ? fmt::format(", {} no longer used dropped", pruned) : "",
      progress.documents);
  // Built once here, the replicas load it instead of each building its own;
  // without it they still build their own, so a failure is no error.
  try {
    const auto stored = search::stored_index(conn);
    if (const auto model_now = search::recorded_embedding_model(conn);
        model_now && (!stored || stored->signature != search::vectors_signature(conn))) {
      std::cerr << "semantic index: building it for the replicas\n";
      const auto build_started = Clock::now();
      search::build_and_store_index(
          conn, *model_now, static_cast<std::size_t>(settings.embeddings_index_max_mib) << 20);
      std::cerr << fmt::format("semantic index: built and stored in {:.1f} s\n",
                               std::chrono::duration<double>(Clock::now() - build_started).count());
    }
  } catch (const std::exception& e) {
    std::cerr << "semantic index: not stored (" << e.what()
              << "); each replica builds its own until the next `chrysopedia-chat embed`\n";
  }
  return true;
}

int embed_command(const config::Settings& settings, bool rebuild) {
  if (settings.embeddings_api_url.empty()) {
    std::cerr << "embed: EMBEDDINGS_API_URL is not set; set it and EMBEDDINGS_MODEL to an "
                 "OpenAI-compatible embeddings endpoint and its model\n";
    return 2;
  }
  try {
    search::Database db(settings.database_url, std::chrono::seconds(5));
    search::apply_migrations(db.connection());
    return embed_pending(settings, db, rebuild) ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "embed failed: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace chrysopedia::app
