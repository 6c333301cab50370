#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/child_process.hpp"

namespace chrysopedia::test {

/// scripts/fleet as an operator runs it: `replicas` instances of the binary
/// behind HAProxy, on the Postgres, Redis and model the settings name
/// (DATABASE_URL, REDIS_URL, LLM_API_URL ...; every replica gets them all).
/// Stopped with SIGTERM, as Ctrl-C stops it.
class FleetProcess {
 public:
  struct Replica {
    std::string name;  ///< as HAProxy's X-Chrysopedia-Replica names it
    std::uint16_t port = 0;
    pid_t pid = 0;
  };

  FleetProcess(std::map<std::string, std::string> env, int replicas);
  ~FleetProcess();

  /// HAProxy's port: where clients go.
  std::uint16_t port() const { return port_; }
  const std::vector<Replica>& replicas() const { return replicas_; }
  const Replica& replica(const std::string& name) const;
  /// The Postgres the fleet imported into (its own, or DATABASE_URL).
  const std::string& primary_url() const { return primary_url_; }
  /// The hot standby the script started (with its own Postgres, STANDBYS
  /// not 0): its URL and its postmaster's pid; an empty URL when none.
  const std::string& standby_url() const { return standby_url_; }
  pid_t standby_pid() const { return standby_pid_; }
  /// The script's output and every replica's log, for a failure message.
  std::string post_mortem() const;

 private:
  std::string dir_;
  std::uint16_t port_ = 0;
  std::vector<Replica> replicas_;
  std::string primary_url_;
  std::string standby_url_;
  pid_t standby_pid_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace chrysopedia::test
