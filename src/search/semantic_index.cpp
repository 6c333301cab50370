#include "search/semantic_index.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

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

observability::Gauge& endpoint_gauge() {
  return observability::default_registry().gauge(
      "chrysopedia_semantic_endpoint_up",
      "1 while the embeddings endpoint answered the last question in time, else 0.");
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
  endpoint_gauge().add(1 - endpoint_gauge().value());
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

VectorIndex::Options options_for(pqxx::connection_base& conn, const EmbeddingModel& model,
                                 VectorIndex::Options options, std::size_t max_bytes) {
  std::size_t documents = 0;
  {
    pqxx::nontransaction tx(conn);
    documents = tx.exec1("SELECT count(*) FROM search_documents")[0].as<std::size_t>();
  }
  options.bits = 8;
  if (VectorIndex::estimate_bytes(model.dimension, documents, options) > max_bytes) {
    options.bits = 4;
  }
  options.capacity = documents;
  return options;
}

std::unique_ptr<VectorIndex> build_vector_index(pqxx::connection_base& conn,
                                                const EmbeddingModel& model,
                                                const VectorIndex::Options& options,
                                                const std::atomic<bool>* stop, unsigned threads) {
  auto index = std::make_unique<VectorIndex>(model.dimension, options.capacity, options);
  constexpr std::size_t kBatch = 4096;
  std::vector<long long> ids;
  std::vector<float> vectors;
  const auto flush = [&] {
    index->add_batch(ids, vectors, threads);
    ids.clear();
    vectors.clear();
  };
  struct Stopped {};
  try {
    for_each_embedding(conn, model.dimension, [&](long long doc_id, const float* v) {
      if (stop && *stop) throw Stopped{};  // a shutdown does not wait for a build
      ids.push_back(doc_id);
      vectors.insert(vectors.end(), v, v + model.dimension);
      if (ids.size() == kBatch) flush();
    });
  } catch (const Stopped&) {
    return nullptr;
  }
  flush();
  return index;
}

namespace {

// A file of our own in the temp directory, gone with this object.
struct TempFile {
  std::string path;
  TempFile() {
    std::string pattern = (std::filesystem::temp_directory_path() / "chrysopedia-index-XXXXXX");
    const int fd = ::mkstemp(pattern.data());
    if (fd < 0) throw std::runtime_error("cannot make a temporary file for the semantic index");
    ::close(fd);
    path = pattern;
  }
  ~TempFile() { ::unlink(path.c_str()); }
};

}  // namespace

std::unique_ptr<VectorIndex> load_stored_index(pqxx::connection_base& conn, int dimension,
                                               const VectorIndex::Options& options) {
  TempFile file;
  if (!fetch_index_file(conn, file.path)) return nullptr;
  return VectorIndex::load(file.path, dimension, options);
}

void build_and_store_index(pqxx::connection_base& conn, const EmbeddingModel& model,
                           std::size_t max_bytes) {
  const std::string signature = vectors_signature(conn);
  const auto options = options_for(conn, model, VectorIndex::Options{}, max_bytes);
  // An offline step with the machine to itself: every core.
  const auto index =
      build_vector_index(conn, model, options, nullptr, std::thread::hardware_concurrency());
  TempFile file;
  index->save(file.path);
  store_index_file(conn, {signature, options.bits}, file.path);
}

void SemanticIndex::note_endpoint(bool answered) {
  if (endpoint_failing_.exchange(!answered) == !answered) return;
  auto& g = endpoint_gauge();
  g.add((answered ? 1 : 0) - g.value());
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
    const std::string signature = vectors_signature(conn);
    if (signature == signature_ && state_ == State::ready) return true;
    const auto started = Clock::now();
    const auto index_options = options_for(conn, *model, options_.index, options_.max_bytes);
    std::shared_ptr<VectorIndex> index;
    const char* source = "stored";
    if (const auto stored = stored_index(conn);
        stored && stored->signature == signature && stored->bits == index_options.bits) {
      try {
        index = load_stored_index(conn, model->dimension, index_options);
      } catch (const std::exception& e) {
        spdlog::warn("semantic_index_stored_unusable error=\"{}\"", e.what());
      }
    }
    if (!index) {
      source = "built";
      // One thread: the replica is serving meanwhile.
      index = build_vector_index(conn, *model, index_options, &stopping_, 1);
      if (!index) return true;  // stopping
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    spdlog::info(
        "semantic_index_loaded source={} documents={} dimension={} bits={} memory_mib={} ms={}",
        source, index->size(), index->dimension(), index->bits(), index->memory_bytes() >> 20, ms);
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
