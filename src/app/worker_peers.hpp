#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>

#include "chat/chat_service.hpp"
#include "chrysopedia/config/settings.hpp"

namespace chrysopedia::history {
class RedisConnection;
}

namespace chrysopedia::app {

/// Makes the per-loop peers on a worker's thread (a curl multi and the
/// model client; a Redis connection and the history store) and publishes
/// them to that thread, where the chat finds them with peers_of_this_loop().
std::shared_ptr<void> make_worker_peers(const config::Settings& settings,
                                        boost::asio::io_context& ctx, search::SearchClient& search);

/// The calling worker thread's peers.
chat::ChatPeers peers_of_this_loop();

/// The calling worker thread's Redis connection (for readiness), or null
/// when memory is off.
history::RedisConnection* redis_of_this_loop();

}  // namespace chrysopedia::app
