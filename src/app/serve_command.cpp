#include "app/serve_command.hpp"

#include <pthread.h>
#include <signal.h>

#include <memory>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "app/health_routes.hpp"
#include "app/readiness.hpp"
#include "app/schema_bootstrap.hpp"
#include "app/web_routes.hpp"
#include "app/worker_peers.hpp"
#include "chat/chat_service.hpp"
#include "chrysopedia/http/server.hpp"
#include "chrysopedia/observability/metrics.hpp"
#include "http/access_guard.hpp"
#include "openai/completions_route.hpp"
#include "openai/models_route.hpp"
#include "search/cascade.hpp"
#include "search/database.hpp"
#include "search/embedding_store.hpp"
#include "search/pg_pool.hpp"
#include "search/pg_search_client.hpp"
#include "search/semantic_index.hpp"

namespace chrysopedia::app {

namespace {

http::ServerOptions server_options(const config::Settings& s) {
  http::ServerOptions o;
  o.host = s.host;
  o.port = s.port;
  o.workers = s.workers != 0 ? s.workers : std::max(1u, std::thread::hardware_concurrency());
  o.idle_timeout = s.http_idle_timeout;
  o.request_timeout = s.http_request_timeout;
  o.write_timeout = s.http_write_timeout;
  o.heartbeat_interval = s.sse_heartbeat_interval;
  o.shutdown_grace = s.shutdown_grace;
  o.cors_allowed_origins = s.cors_allowed_origins;
  o.max_idle_connections_per_client =
      static_cast<std::size_t>(s.http_max_idle_connections_per_client);
  o.idle_cap_exempt = s.trusted_proxies;
  o.on_request = [](std::string_view route, int status) {
    // 0: the client left before any answer (nginx's 499).
    observability::service_metrics().request(route.empty() ? "unmatched" : route,
                                             status == 0 ? 499 : status);
  };
  return o;
}

http::AccessOptions access_options(const config::Settings& s) {
  http::AccessOptions o;
  o.api_keys = s.chat_api_keys;
  // The loader has checked every entry.
  for (const auto& p : s.trusted_proxies) o.trusted_proxies.push_back(*http::IpAddress::parse(p));
  o.rate_per_minute = s.chat_rate_limit_per_minute;
  o.rate_burst = s.chat_rate_limit_burst;
  o.max_streams = static_cast<std::size_t>(s.chat_max_streams);
  // With Redis, one bucket per client across every replica (SPEC §11).
  if (!s.redis_url.empty()) o.fleet = &fleet_rate_limit_of_this_loop;
  return o;
}

}  // namespace

// A database whose vectors come from another model than EMBEDDINGS_MODEL
// is a start-up error, not a silent rebuild. A database not reachable yet
// (or not migrated) is checked again by the index's loader, which then
// serves full text only and says so.
std::optional<std::string> embeddings_model_mismatch(const config::Settings& settings) {
  try {
    search::Database db(settings.database_url, std::chrono::milliseconds(2000));
    const auto recorded = search::recorded_embedding_model(db.connection());
    if (recorded && recorded->model != settings.embeddings_model) {
      return search::model_mismatch_message(*recorded, settings.embeddings_model);
    }
  } catch (const std::exception& e) {
    spdlog::info("embeddings_model_check_deferred error=\"{}\"", e.what());
  }
  return std::nullopt;
}

int serve(const config::Settings& settings) {
  spdlog::info("config {}", settings.redacted_json());

  // Signals are taken by one thread with sigwait, so they are blocked in
  // every thread, including the workers started below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  SchemaBootstrap schema(settings.database_url);

  search::PgPool::Options pool_options;
  pool_options.url = settings.database_url;
  pool_options.size = settings.search_pool_size;
  pool_options.statement_timeout = settings.search_timeout;
  pool_options.on_connect =
      search::search_session_setup(static_cast<int>(settings.search_timeout.count()));
  pool_options.connect_at_start = true;
  pool_options.max_queue = search::search_queue_bound(settings.chat_max_streams);
  auto pool = std::make_shared<search::PgPool>(pool_options);
  // Each hot standby gets a pool like the primary's (migrations and imports
  // never go there: they run on DATABASE_URL).
  std::vector<std::shared_ptr<search::PgPool>> standbys;
  for (const auto& url : settings.database_replica_urls) {
    auto standby_options = pool_options;
    standby_options.url = url;
    standbys.push_back(std::make_shared<search::PgPool>(standby_options));
  }
  search::PgSearchClient search_client(pool, settings.search_timeout, std::move(standbys),
                                       settings.database_replica_max_lag);
  std::unique_ptr<search::SemanticIndex> semantic;
  if (!settings.embeddings_api_url.empty()) {
    if (const auto mismatch = embeddings_model_mismatch(settings)) {
      spdlog::critical("startup_failed error=\"{}\"", *mismatch);
      return 1;
    }
    search::SemanticIndex::Options o;
    o.database_url = settings.database_url;
    o.model = settings.embeddings_model;
    o.max_bytes = static_cast<std::size_t>(settings.embeddings_index_max_mib) << 20;
    semantic = std::make_unique<search::SemanticIndex>(o);
  }

  chat::ChatService chat(settings, peers_of_this_loop);
  auto router = std::make_shared<http::Router>();
  // Registered now, so /metrics lists every series before the first chat.
  observability::service_metrics();
  Readiness readiness(peers_of_this_loop, semantic.get());
  add_health_routes(*router);
  readiness.add_routes(*router);
  add_metrics_route(*router, observability::default_registry());
  add_web_routes(*router);
  // Outlives the router's handlers, which call it: declared before the server.
  http::AccessGuard access(access_options(settings));
  chat.add_routes(*router, [&access](http::Handler h, bool opens_stream) {
    return access.protect(std::move(h), opens_stream);
  });
  openai::ModelsRoute models;
  models.add_routes(*router,
                    [&access](http::Handler h) { return access.protect(std::move(h), false); });
  openai::CompletionsRoute completions(chat, settings.source_url_template);
  completions.add_routes(*router, [&access](http::Handler h, bool opens_stream) {
    return access.protect(std::move(h), opens_stream);
  });

  const auto options = server_options(settings);
  http::Server server(options, router);
  server.on_worker_start(
      [&settings, &search_client, &semantic](unsigned, boost::asio::io_context& ctx) {
        return make_worker_peers(settings, ctx, search_client, semantic.get());
      });
  try {
    server.start();
  } catch (const std::exception& e) {
    spdlog::critical("listen_failed host={} port={} error=\"{}\"", settings.host, settings.port,
                     e.what());
    return 1;
  }
  spdlog::info(
      "listening host={} port={} workers={} answerer={} memory={} api_keys={} "
      "rate_limit_per_minute={} max_streams={}",
      settings.host, server.port(), options.workers,
      settings.llm_api_url.empty() ? "offline" : config::redact_url(settings.llm_api_url),
      settings.redis_url.empty() ? "off" : "redis", settings.chat_api_keys.size(),
      settings.chat_rate_limit_per_minute, settings.chat_max_streams);

  std::thread signal_waiter([&server, &signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("shutdown signal={} draining open streams", sig == SIGINT ? "SIGINT" : "SIGTERM");
    server.stop();
    // A second signal while draining means "now".
    sigwait(&signals, &sig);
    spdlog::warn("shutdown forced by a second signal");
    std::_Exit(1);
  });
  signal_waiter.detach();

  server.wait();
  // The pool's last jobs report to the loops, which still exist until the
  // server goes out of scope: stop the pool first.
  pool->stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace chrysopedia::app
