#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>

#include "chat/chat_service.hpp"
#include "chrysopedia/config/settings.hpp"
#include "chrysopedia/http/fleet_rate_limit.hpp"

namespace chrysopedia::llm {
struct EmbeddingsOptions;
}
namespace chrysopedia::search {
class PgSearchClient;
class SemanticIndex;
}  // namespace chrysopedia::search

namespace chrysopedia::app {

/// Makes the per-loop peers on a worker's thread (a curl multi and the
/// model client; a Redis connection and the history store) and publishes
/// them to that thread, where the chat finds them with peers_of_this_loop().
/// `semantic`: the replica's semantic index when embeddings are configured
/// (each loop then embeds its questions with its own client), else null.
std::shared_ptr<void> make_worker_peers(const config::Settings& settings,
                                        boost::asio::io_context& ctx,
                                        search::PgSearchClient& search,
                                        search::SemanticIndex* semantic);

/// The embeddings client's options from the settings (serve and import).
llm::EmbeddingsOptions embeddings_options(const config::Settings& settings);

/// The calling worker thread's peers.
chat::ChatPeers peers_of_this_loop();

/// The calling loop's fleet-wide rate-limit buckets (Redis), or null
/// without Redis.
http::FleetRateLimit* fleet_rate_limit_of_this_loop();

}  // namespace chrysopedia::app
