#include "app/search_commands.hpp"

#include <chrono>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "app/embed_command.hpp"
#include "chrysopedia/config/settings.hpp"
#include "search/cascade.hpp"
#include "search/database.hpp"
#include "search/importer.hpp"
#include "search/migrations.hpp"

namespace chrysopedia::app {

namespace {

std::unique_ptr<search::Database> connect(const config::Settings& settings) {
  try {
    return std::make_unique<search::Database>(settings.database_url, std::chrono::seconds(5));
  } catch (const std::exception& e) {
    std::cerr << "cannot connect to the database at " << config::redact_url(settings.database_url)
              << ": " << e.what() << "\n";
    return nullptr;
  }
}

// Cuts a UTF-8 string to at most `max` bytes without splitting a character.
std::string clip(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end) + "…";
}

}  // namespace

int migrate_command(const config::Settings& settings) {
  auto conn = connect(settings);
  if (!conn) return 1;
  try {
    const int applied = search::apply_migrations(conn->connection());
    std::cout << (applied == 0 ? std::string("schema is up to date")
                               : fmt::format("applied {} migration(s)", applied))
              << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "migration failed: " << e.what() << "\n";
    return 1;
  }
}

int import_command(const config::Settings& settings, const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "cannot read " << path << "\n";
    return 1;
  }
  auto conn = connect(settings);
  if (!conn) return 1;
  try {
    search::apply_migrations(conn->connection());
    const auto started = std::chrono::steady_clock::now();
    const auto report = search::import_pages(conn->connection(), in);
    if (!report.bad_lines.empty()) {
      for (const auto& bad : report.bad_lines) {
        std::cerr << path << ":" << bad.line << ": " << bad.reason << "\n";
      }
      std::cerr << "nothing imported: " << report.bad_lines.size() << " bad line(s) in " << path
                << "\n";
      return 1;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cout << fmt::format(
        "imported {} page(s) with {} section(s) by {} creator(s) in {:.1f} s\n", report.pages,
        report.sections, report.creators, seconds);
    std::cout.flush();
    // The pages are in whatever happens to their vectors: a failed pass
    // is resumed by `chrysopedia-chat embed`.
    if (!settings.embeddings_api_url.empty() && !embed_pending(settings, *conn, false)) return 1;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "import failed, nothing imported: " << e.what() << "\n";
    return 1;
  }
}

int search_command(const config::Settings& settings, const std::string& query,
                   const std::optional<std::string>& creator) {
  auto conn = connect(settings);
  if (!conn) return 1;
  try {
    search::configure_search_session(conn->connection(), 10'000);
    search::SearchRequest request{query, creator, settings.chat_max_context_sources};
    const auto started = std::chrono::steady_clock::now();
    const auto result = search::run_cascade(conn->connection(), request);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    std::cout << fmt::format("cascade_tier: {}  ({} hit(s), {:.1f} ms)\n", result.cascade_tier,
                             result.items.size(), ms);
    int n = 0;
    for (const auto& item : result.items) {
      std::cout << fmt::format("[{}] {}{}{}\n", ++n, item.title,
                               item.creator_name.empty() ? "" : " by " + item.creator_name,
                               item.section_heading.empty() ? "" : " — " + item.section_heading);
      std::cout << fmt::format("    {}{}  ({})\n", item.slug,
                               item.section_anchor.empty() ? "" : "#" + item.section_anchor,
                               item.topic_category);
      std::cout << "    " << clip(item.summary, 200) << "\n";
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "search failed: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace chrysopedia::app
