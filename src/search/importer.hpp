#pragma once

#include <cstddef>
#include <istream>
#include <string>
#include <vector>

namespace pqxx {
class connection_base;
}

namespace chrysopedia::search {

struct ImportReport {
  struct BadLine {
    std::size_t line;  ///< 1-based
    std::string reason;
  };
  std::vector<BadLine> bad_lines;  ///< non-empty: nothing was imported
  std::size_t pages = 0;           ///< distinct pages written
  std::size_t sections = 0;
  std::size_t creators = 0;
};

/// Imports technique pages from JSON Lines (SPEC §2): every line is
/// validated first; if any is bad, the report lists them all and nothing
/// is written. Otherwise all pages are upserted by slug (a page's sections
/// replaced) in one transaction. Throws pqxx errors if the database fails.
ImportReport import_pages(pqxx::connection_base& conn, std::istream& in);

}  // namespace chrysopedia::search
