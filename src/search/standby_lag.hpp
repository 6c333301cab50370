#pragma once

#include <chrono>
#include <optional>

namespace pqxx {
class connection_base;
}

namespace chrysopedia::search {

/// How far a hot standby's data is behind its primary: zero when it has
/// replayed all it received (or is no standby at all), else the age of the
/// last transaction it replayed (a day when it replayed none since it
/// started). Nothing when it is not streaming from a primary (its age
/// cannot be told). Throws pqxx exceptions.
std::optional<std::chrono::milliseconds> standby_lag(pqxx::connection_base& conn);

}  // namespace chrysopedia::search
