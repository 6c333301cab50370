#pragma once

#include "chrysopedia/config/settings.hpp"

namespace chrysopedia::search {
class Database;
}

namespace chrysopedia::app {

/// `chrysopedia-chat embed [--rebuild]`: embeds every search document that
/// has no vector yet (all of them after --rebuild, which first drops the
/// vectors of another model); exit code.
int embed_command(const config::Settings& settings, bool rebuild);

/// The embedding pass the import and `embed` share: batched, each batch
/// committed as it comes (so a pass that stops resumes where it was), with
/// progress on stderr. Returns false, having said why and what is kept, when
/// the endpoint fails or the stored vectors are of another model.
bool embed_pending(const config::Settings& settings, search::Database& db, bool rebuild);

}  // namespace chrysopedia::app
