#pragma once

#include <chrono>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "chat/chat_service.hpp"
#include "chrysopedia/http/router.hpp"

namespace chrysopedia::search {
class SemanticIndex;
}

namespace chrysopedia::app {

/// `GET /readyz`: 200 `{"status":"ready"}` when the search backend
/// (Postgres) and the conversation memory (Redis) answer, else 503
/// `{"status":"unready","down":[...]}`. Each peer checks itself through its
/// interface (SearchClient::readiness, HistoryStore::readiness), with a
/// short deadline and without blocking the loop; memory that is off has
/// nothing to wait for.
class Readiness {
 public:
  /// `peers`: the calling loop's. `semantic`: the semantic index when
  /// embeddings are configured. Its state is reported, never waited for:
  /// while it loads, or when the embeddings endpoint fails, search is full
  /// text alone.
  Readiness(chat::PeersOfThisLoop peers, const search::SemanticIndex* semantic = nullptr,
            std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));

  void add_routes(http::Router& router);
  boost::asio::awaitable<void> readyz(http::Exchange& exchange);

 private:
  chat::PeersOfThisLoop peers_;
  const search::SemanticIndex* semantic_;
  std::chrono::milliseconds timeout_;
};

}  // namespace chrysopedia::app
