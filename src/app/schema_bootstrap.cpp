#include "app/schema_bootstrap.hpp"

#include <chrono>

#include <spdlog/spdlog.h>

#include "chrysopedia/config/settings.hpp"
#include "search/database.hpp"
#include "search/migrations.hpp"

namespace chrysopedia::app {

SchemaBootstrap::SchemaBootstrap(std::string database_url) : url_(std::move(database_url)) {
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
    search::Database db(url_, std::chrono::seconds(3));
    search::apply_migrations(db.connection());
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
