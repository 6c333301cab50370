#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace pqxx {
class connection_base;
}

namespace chrysopedia::search {

/// One connection of its own, for the commands and start-up checks that
/// talk to the database outside the search pool (migrate, import, embed,
/// search from the command line). Hands the connection to this area's
/// functions, so that the code which builds the service (app/) never
/// includes the driver.
class Database {
 public:
  /// Connects within `connect_timeout`; throws std::exception with the
  /// driver's words when it cannot.
  Database(const std::string& url, std::chrono::milliseconds connect_timeout);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  pqxx::connection_base& connection();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chrysopedia::search
