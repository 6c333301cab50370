#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chrysopedia/llm/llm_client.hpp"

namespace chrysopedia::llm {

/// One HTTP POST to the model server, as the streaming client needs it.
struct CallRequest {
  std::string url;
  std::string_view body;             ///< owned by the caller until the response begins
  std::vector<std::string> headers;  ///< "Name: value"
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds total_timeout{600'000};
};

/// How a call ended, whichever HTTP library carried it.
struct CallOutcome {
  bool complete = false;                            ///< the whole response arrived
  int status = 0;                                   ///< 0 when no response header came
  LlmError::Kind kind = LlmError::Kind::truncated;  ///< when not complete
  bool retryable = false;  ///< worth another attempt (nothing was received)
  std::string what;
};

/// What the streaming client hears from a call. Calls come on the
/// loop; none after the call is destroyed.
class CallEvents {
 public:
  enum class Take { all, pause, abort };
  virtual void on_header(std::string_view name, std::string_view value) = 0;
  /// `pause`: the bytes were not taken and come again after resume().
  virtual Take on_body(int status, std::string_view bytes) = 0;
  /// What one read brought has all gone to on_body. Called from the call's
  /// own turn of the loop, never from inside the HTTP library: the events
  /// may wake their consumer here, who may destroy the call.
  virtual void on_read_end() {}
  /// Once, posted (never from inside another call on it).
  virtual void on_end(CallOutcome outcome) = 0;

 protected:
  ~CallEvents() = default;
};

/// A request in flight. Destroying it cancels it: the connection closes at
/// once and no event follows.
class UpstreamCall {
 public:
  virtual ~UpstreamCall() = default;
  virtual void resume() = 0;
  /// The request has left in full: its body is no longer needed.
  virtual bool request_sent() const = 0;
};

/// An HTTP client library behind the streaming client (one per event loop).
class UpstreamTransport {
 public:
  virtual ~UpstreamTransport() = default;
  /// Sends at once what can be sent at once; no event reaches `events`
  /// before this returns.
  virtual std::unique_ptr<UpstreamCall> start(const CallRequest& request, CallEvents& events) = 0;
};

}  // namespace chrysopedia::llm
