#include "search/database.hpp"

#include <pqxx/pqxx>

#include "search/pg_pool.hpp"

namespace chrysopedia::search {

struct Database::Impl {
  explicit Impl(const std::string& url) : conn(url) {}
  pqxx::connection conn;
};

Database::Database(const std::string& url, std::chrono::milliseconds connect_timeout)
    : impl_(std::make_unique<Impl>(with_connect_timeout(url, connect_timeout))) {}

Database::~Database() = default;

pqxx::connection_base& Database::connection() {
  return impl_->conn;
}

}  // namespace chrysopedia::search
