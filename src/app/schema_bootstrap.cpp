#include "app/schema_bootstrap.hpp"

#include <chrono>

#include <spdlog/spdlog.h>
#include <pqxx/pqxx>

#include "chrysopedia/config/settings.hpp"
#include "search/migrations.hpp"
#include "search/pg_pool.hpp"

namespace chrysopedia::app {

SchemaBootstrap::SchemaBootstrap(std::string database_url)
    : url_(search::with_connect_timeout(database_url, std::chrono::seconds(3))) {
  if (attempt()) return;
  retry_ = std::thread([this] {
    while (!stopping_ && !done_) {
      for (int i = 0; i < 50 && !stopping_; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (!stopping_) attempt();
    }
  });
}

SchemaBootstrap::~SchemaBootstrap() {
  stopping_ = true;
  if (retry_.joinable()) retry_.join();
}

bool SchemaBootstrap::attempt() {
  try {
    pqxx::connection conn(url_);
    search::apply_migrations(conn);
    done_ = true;
    spdlog::info("schema_ready");
    return true;
  } catch (const std::exception& e) {
    spdlog::warn("schema_migrate_error database={} error=\"{}\" (retrying every 5 s)",
                 config::redact_url(url_), e.what());
    return false;
  }
}

}  // namespace chrysopedia::app
