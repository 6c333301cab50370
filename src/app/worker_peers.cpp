#include "app/worker_peers.hpp"

#include "chat/offline_answerer.hpp"
#include "chrysopedia/config/redis_url.hpp"
#include "history/no_history_store.hpp"
#include "history/no_stream_journal.hpp"
#include "history/redis_connection.hpp"
#include "history/redis_history_store.hpp"
#include "history/redis_rate_limit.hpp"
#include "history/redis_stream_journal.hpp"
#include "llm/curl_loop.hpp"
#include "llm/openai_embeddings_client.hpp"
#include "llm/openai_stream_client.hpp"
#include "search/pg_search_client.hpp"
#include "search/semantic_search_client.hpp"

namespace chrysopedia::app {

namespace {

// The http area's view of the history area's Redis buckets.
class FleetBuckets final : public http::FleetRateLimit {
 public:
  explicit FleetBuckets(history::RedisConnection& redis) : buckets_(redis) {}
  boost::asio::awaitable<std::optional<http::RateDecision>> take(const std::string& client,
                                                                 double per_minute,
                                                                 double burst) override {
    const auto taken = co_await buckets_.take(client, per_minute, burst);
    if (!taken) co_return std::nullopt;
    co_return http::RateDecision{taken->allowed, taken->retry_after};
  }

 private:
  history::RedisRateLimit buckets_;
};

struct WorkerPeers {
  std::shared_ptr<llm::CurlMulti> multi;
  std::unique_ptr<llm::LlmClient> llm;  // the model, or the offline answerer
  std::unique_ptr<llm::OpenAiEmbeddingsClient> embedder;
  std::unique_ptr<search::SemanticSearchClient> semantic_search;
  std::unique_ptr<history::RedisConnection> redis;
  std::unique_ptr<history::RedisConnection> stops;  // subscribed: streams' stops
  std::unique_ptr<history::HistoryStore> history;   // Redis, or no memory
  std::unique_ptr<history::StreamJournal> journal;  // Redis, or no resume
  std::unique_ptr<FleetBuckets> buckets;            // Redis, or none
  chat::ChatPeers peers;
  ~WorkerPeers();
};

thread_local WorkerPeers* current = nullptr;

WorkerPeers::~WorkerPeers() {
  if (current == this) current = nullptr;
  // Members go in reverse order: the clients before what they run on.
}

}  // namespace

std::shared_ptr<void> make_worker_peers(const config::Settings& settings,
                                        boost::asio::io_context& ctx,
                                        search::PgSearchClient& search,
                                        search::SemanticIndex* semantic) {
  auto w = std::make_shared<WorkerPeers>();
  w->peers.search = &search;
  if (semantic) {
    w->multi = llm::make_curl_multi(ctx);
    w->embedder =
        std::make_unique<llm::OpenAiEmbeddingsClient>(*w->multi, embeddings_options(settings));
    search::SemanticSearchClient::Options o;
    o.timeout = settings.embeddings_timeout;
    o.weight = settings.embeddings_fusion_weight;
    w->semantic_search =
        std::make_unique<search::SemanticSearchClient>(search, *w->embedder, *semantic, o);
    w->peers.search = w->semantic_search.get();
  }
  if (!settings.llm_api_url.empty()) {
    llm::OpenAiOptions o;
    o.url = settings.llm_api_url;
    o.api_key = settings.llm_api_key;
    o.fallback_url = settings.llm_fallback_api_url;
    o.connect_timeout = settings.llm_connect_timeout;
    o.idle_timeout = settings.llm_idle_timeout;
    o.total_timeout = settings.llm_total_timeout;
    o.max_retries = settings.llm_max_retries;
    o.curl_only = settings.llm_http_client == "curl";
    if (!w->multi) w->multi = llm::make_curl_multi(ctx);
    w->llm = std::make_unique<llm::OpenAiStreamClient>(*w->multi, o);
  } else {
    w->llm = std::make_unique<chat::OfflineAnswerer>();
  }
  w->peers.llm = w->llm.get();
  if (!settings.redis_url.empty()) {
    // Validated at start-up, so it parses.
    w->redis = std::make_unique<history::RedisConnection>(
        ctx, *config::parse_redis_url(settings.redis_url));
    w->buckets = std::make_unique<FleetBuckets>(*w->redis);
    history::RedisHistoryOptions o;
    o.max_messages = settings.chat_history_max_turn_pairs * 2;
    o.ttl = std::chrono::seconds(settings.chat_history_ttl_seconds);
    w->history = std::make_unique<history::RedisHistoryStore>(*w->redis, o);
    if (settings.chat_stream_resume) {
      history::RedisStreamOptions so;
      so.retention = std::chrono::seconds(settings.chat_stream_retention_seconds);
      so.liveness = std::chrono::seconds(settings.chat_stream_liveness_seconds);
      // Its own connection: one subscribed to a channel serves no commands.
      w->stops = std::make_unique<history::RedisConnection>(
          ctx, *config::parse_redis_url(settings.redis_url));
      w->journal =
          std::make_unique<history::RedisStreamJournal>(ctx, *w->redis, so, w->stops.get());
    } else {
      w->journal = std::make_unique<history::NoStreamJournal>();
    }
  } else {
    w->history = std::make_unique<history::NoHistoryStore>();
    w->journal = std::make_unique<history::NoStreamJournal>();
  }
  w->peers.history = w->history.get();
  w->peers.journal = w->journal.get();
  current = w.get();
  return w;
}

llm::EmbeddingsOptions embeddings_options(const config::Settings& settings) {
  llm::EmbeddingsOptions o;
  o.url = settings.embeddings_api_url;
  o.model = settings.embeddings_model;
  o.api_key = settings.embeddings_api_key;
  o.dimensions = settings.embeddings_dimensions;
  o.timeout = settings.embeddings_timeout;
  o.connect_timeout = std::min(o.connect_timeout, settings.embeddings_timeout);
  return o;
}

chat::ChatPeers peers_of_this_loop() {
  return current ? current->peers : chat::ChatPeers{};
}

http::FleetRateLimit* fleet_rate_limit_of_this_loop() {
  return current ? current->buckets.get() : nullptr;
}

}  // namespace chrysopedia::app
