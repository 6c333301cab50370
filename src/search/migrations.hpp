#pragma once

namespace pqxx {
class connection_base;
}

namespace chrysopedia::search {

/// Applies every numbered migration not yet recorded in schema_migrations,
/// each in its own transaction, under an advisory lock so that replicas
/// starting together apply each one once. Returns how many were applied.
int apply_migrations(pqxx::connection_base& conn);

}  // namespace chrysopedia::search
