#include "search/semantic_index.hpp"

#include <spdlog/spdlog.h>
#include <pqxx/pqxx>

#include "chrysopedia/observability/metrics.hpp"
#include "search/embedding_store.hpp"
#include "search/pg_pool.hpp"

namespace chrysopedia::search {

using Clock = std::chrono::steady_clock;

namespace {

observability::Gauge& documents_gauge() {
  return observability::default_registry().gauge(
      "chrysopedia_semantic_index_documents",
      "Documents in the semantic index this replica serves (0: full text only).");
}

observability::Gauge& ready_gauge() {
  return observability::default_registry().gauge(
      "chrysopedia_semantic_index_ready",
      "1 while the semantic index serves; 0 while it loads, is empty or is of another model.");
}

}  // namespace

SemanticIndex::SemanticIndex(Options options) : options_(std::move(options)) {
  options_.database_url =
      with_connect_timeout(options_.database_url, std::chrono::milliseconds(2000));
  documents_gauge();
  ready_gauge();
  thread_ = std::thread([this] { run(); });
}

SemanticIndex::~SemanticIndex() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

const char* SemanticIndex::name(State s) {
  switch (s) {
    case State::loading:
      return "loading";
    case State::empty:
      return "empty";
    case State::ready:
      return "ready";
    case State::mismatch:
      return "mismatch";
  }
  return "loading";
}

std::shared_ptr<const VectorIndex> SemanticIndex::current() const {
  std::lock_guard lock(mutex_);
  return index_;
}

bool SemanticIndex::wait_loaded(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [this] { return settled_; });
}

void SemanticIndex::run() {
  for (;;) {
    const bool settled = load_once();
    std::unique_lock lock(mutex_);
    if (settled && !settled_) {
      settled_ = true;
      changed_.notify_all();
    }
    if (changed_.wait_for(lock, settled ? options_.recheck : options_.retry,
                          [this] { return stopping_.load(); })) {
      return;
    }
  }
}

void SemanticIndex::publish_metrics(std::size_t documents) {
  auto& d = documents_gauge();
  d.add(static_cast<std::int64_t>(documents) - d.value());
  auto& r = ready_gauge();
  r.add((state_ == State::ready ? 1 : 0) - r.value());
}

bool SemanticIndex::load_once() {
  try {
    pqxx::connection conn(options_.database_url);
    const auto model = recorded_embedding_model(conn);
    if (!model) {
      state_ = State::empty;
      std::lock_guard lock(mutex_);
      index_.reset();
      publish_metrics(0);
      return true;
    }
    if (model->model != options_.model) {
      if (state_.exchange(State::mismatch) != State::mismatch) {
        spdlog::error("semantic_index_mismatch error=\"{}\"",
                      model_mismatch_message(*model, options_.model));
      }
      std::lock_guard lock(mutex_);
      index_.reset();
      publish_metrics(0);
      return true;
    }
    // Cheap to read: a rebuild only when documents or vectors changed.
    std::string signature;
    {
      pqxx::nontransaction tx(conn);
      const auto r = tx.exec1(
          "SELECT (SELECT count(*) FROM search_documents) || '/' ||"
          " (SELECT coalesce(max(id), 0) FROM search_documents) || '/' ||"
          " (SELECT count(*) FROM embedding_vectors)");
      signature = r[0].as<std::string>();
    }
    if (signature == signature_ && state_ == State::ready) return true;
    const auto started = Clock::now();
    std::size_t documents = 0;
    {
      pqxx::nontransaction tx(conn);
      documents = tx.exec1("SELECT count(*) FROM search_documents")[0].as<std::size_t>();
    }
    auto index_options = options_.index;
    index_options.bits = 8;
    if (VectorIndex::estimate_bytes(model->dimension, documents, index_options) >
        options_.max_bytes) {
      index_options.bits = 4;
    }
    auto index = std::make_shared<VectorIndex>(model->dimension, documents, index_options);
    struct Stopped {};
    try {
      for_each_embedding(conn, model->dimension, [&](long long doc_id, const float* v) {
        if (stopping_) throw Stopped{};  // a shutdown does not wait for a build
        index->add(doc_id, v);
      });
    } catch (const Stopped&) {
      return true;
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    spdlog::info("semantic_index_loaded documents={} dimension={} bits={} memory_mib={} ms={}",
                 index->size(), index->dimension(), index->bits(), index->memory_bytes() >> 20,
                 ms);
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return true;
      index_ = std::move(index);
      signature_ = signature;
      state_ = State::ready;
      publish_metrics(index_->size());
    }
    return true;
  } catch (const std::exception& e) {
    spdlog::warn("semantic_index_load_failed error=\"{}\"", e.what());
    return false;
  }
}

}  // namespace chrysopedia::search
