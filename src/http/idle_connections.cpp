#include "http/idle_connections.hpp"

#include <algorithm>
#include <utility>

namespace chrysopedia::http {

IdleConnections::IdleConnections(std::size_t max_per_client, std::vector<IpAddress> exempt)
    : max_(max_per_client), exempt_(std::move(exempt)) {}

IdleConnections::Slot::Slot(Slot&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), client_(std::move(other.client_)) {}

IdleConnections::Slot& IdleConnections::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    client_ = std::move(other.client_);
  }
  return *this;
}

IdleConnections::Slot::~Slot() {
  release();
}

void IdleConnections::Slot::release() {
  if (owner_ && !client_.empty()) owner_->give_back(client_);
  owner_ = nullptr;
}

std::string IdleConnections::client_of(const std::string& peer_address) const {
  if (max_ == 0) return {};
  const auto address = IpAddress::parse(peer_address);
  if (!address || std::find(exempt_.begin(), exempt_.end(), *address) != exempt_.end()) return {};
  return rate_limit_key(*address);
}

IdleConnections::Slot IdleConnections::try_acquire(const std::string& client) {
  if (client.empty()) return Slot(this, {});
  std::lock_guard lock(mutex_);
  auto& n = idle_[client];
  if (n >= max_) return {};
  ++n;
  return Slot(this, client);
}

std::size_t IdleConnections::idle(const std::string& client) const {
  std::lock_guard lock(mutex_);
  const auto it = idle_.find(client);
  return it == idle_.end() ? 0 : it->second;
}

void IdleConnections::give_back(const std::string& client) {
  std::lock_guard lock(mutex_);
  const auto it = idle_.find(client);
  if (it == idle_.end()) return;
  if (--it->second == 0) idle_.erase(it);
}

}  // namespace chrysopedia::http
