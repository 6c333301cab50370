#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "http/client_address.hpp"

namespace chrysopedia::http {

/// Caps the connections each client holds open while not in a request
/// (waiting for one, or one still arriving), across all workers: a client
/// that opens thousands and sends nothing would hold as many sockets and
/// buffers for the idle timeout. Connections busy with a request are not
/// counted: streams have their own caps (the rate limit, CHAT_MAX_STREAMS),
/// and one server relaying many users' chats may hold many. A client is an
/// address, IPv6 by its /64; `exempt` peers (the trusted proxies, which
/// pool keep-alive connections for all their clients) are not capped.
class IdleConnections {
 public:
  IdleConnections(std::size_t max_per_client, std::vector<IpAddress> exempt);

  /// One connection of a client counted as idle while it is held.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept;
    Slot& operator=(Slot&& other) noexcept;
    ~Slot();
    explicit operator bool() const { return owner_ != nullptr; }
    void release();

   private:
    friend class IdleConnections;
    Slot(IdleConnections* owner, std::string client) : owner_(owner), client_(std::move(client)) {}
    IdleConnections* owner_ = nullptr;
    std::string client_;
  };

  /// The client's key (empty for an exempt peer or an unknown address).
  std::string client_of(const std::string& peer_address) const;

  /// A slot for `client`, or an empty one when it holds its maximum. An
  /// empty `client` (exempt) always gets one, counted nowhere.
  Slot try_acquire(const std::string& client);

  std::size_t max_per_client() const { return max_; }
  std::size_t idle(const std::string& client) const;

 private:
  void give_back(const std::string& client);

  std::size_t max_;
  std::vector<IpAddress> exempt_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> idle_;
};

}  // namespace chrysopedia::http
