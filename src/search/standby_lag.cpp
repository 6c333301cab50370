#include "search/standby_lag.hpp"

#include <pqxx/pqxx>

namespace chrysopedia::search {

std::optional<std::chrono::milliseconds> standby_lag(pqxx::connection_base& conn) {
  pqxx::nontransaction tx(conn);
  // The time since the last replayed transaction alone would call a
  // standby of an idle primary late; a standby whose WAL receiver is gone
  // would look current while the primary moves on. (pg_stat_wal_receiver
  // shows its pid to any role, its status only to privileged ones.)
  const auto r = tx.exec1(
      "SELECT CASE"
      " WHEN NOT pg_is_in_recovery() THEN 0"
      " WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE pid IS NOT NULL) THEN NULL"
      " WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
      // Behind, and nothing replayed since it started: far behind, for all
      // it can tell.
      " ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000,"
      "  86400000)"
      " END::bigint");
  if (r[0].is_null()) return std::nullopt;
  return std::chrono::milliseconds(r[0].as<long long>());
}

}  // namespace chrysopedia::search
