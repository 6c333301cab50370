#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace chrysopedia::config {

/// Everything the service reads from its environment (SPEC §7), typed and
/// validated once at start-up and then passed around by const reference.
struct Settings {
  // HTTP server
  std::string host = "0.0.0.0";
  std::uint16_t port = 8000;
  unsigned workers = 0;  ///< event loops; 0 means one per core

  // Peers
  std::string database_url = "postgresql://localhost/chrysopedia";
  std::string redis_url = "redis://localhost:6379/0";  ///< empty: no memory
  int search_pool_size = 4;                            ///< Postgres connections for searches
  /// Hot standbys searches read from (SPEC §11), each with its own pool of
  /// search_pool_size; the primary serves when none can.
  std::vector<std::string> database_replica_urls;
  std::chrono::milliseconds database_replica_max_lag{
      5000};                                       ///< a standby further behind is skipped
  std::chrono::milliseconds search_timeout{2000};  ///< per search, queueing included

  // Model
  /// Semantic search (SPEC §2): an OpenAI-compatible /v1/embeddings. Empty:
  /// full-text search only.
  std::string embeddings_api_url;
  std::string embeddings_model;
  std::string embeddings_api_key;
  int embeddings_dimensions = 0;                       ///< asked of the model when > 0
  std::chrono::milliseconds embeddings_timeout{1000};  ///< for a question's embedding
  int embeddings_batch_size = 64;                      ///< texts per request at import
  int embeddings_index_max_mib = 512;                  ///< 8-bit vectors when they fit, else 4-bit
  /// A semantic rank's weight against a full-text one when the two are fused
  /// (search::kDefaultSemanticWeight: full text leads).
  double embeddings_fusion_weight = 0.5;

  /// A follow-up is made standalone by the model (one short call) before
  /// it is searched, when it answers within the timeout.
  bool chat_rewrite_followups = false;
  std::chrono::milliseconds chat_rewrite_timeout{1500};

  std::string llm_api_url;  ///< empty: the offline answerer
  std::string llm_api_key;
  std::string llm_model = "gpt-4o-mini";
  double llm_temperature = 0.3;
  int llm_max_tokens = 2048;
  bool llm_stream_usage = true;
  std::string llm_fallback_api_url;  ///< tried when the primary fails before any token
  std::chrono::milliseconds llm_connect_timeout{10'000};
  std::chrono::milliseconds llm_idle_timeout{60'000};  ///< longest silence mid-stream
  std::chrono::milliseconds llm_total_timeout{600'000};
  int llm_max_retries = 2;  ///< before the first token only
  /// "auto": plain http:// on the service's own sockets, the rest through
  /// libcurl; "curl": everything through libcurl (an escape hatch).
  std::string llm_http_client = "auto";

  // Chat
  int chat_max_context_sources = 10;
  int chat_history_max_turn_pairs = 10;
  int chat_history_ttl_seconds = 3600;
  /// How long a chat stream's events stay in Redis after it ended, for
  /// readers to resume it (SPEC §11).
  int chat_stream_retention_seconds = 300;
  /// With Redis, chat streams are kept for resuming; false turns that off
  /// (no ids), e.g. to measure what it costs.
  bool chat_stream_resume = true;
  /// A reader of a stream whose generating replica has said nothing for
  /// this long is told `Stream interrupted` (SPEC §11).
  int chat_stream_liveness_seconds = 5;
  /// How long a generation whose client left goes on for a reader to
  /// resume it (with resume on); 0: stopped at once, as without Redis.
  int chat_detached_grace_seconds = 15;
  /// false: a chat may name only a conversation the service made (and so
  /// an unguessable id); a client's own id (`my-session-1`) gets 400.
  bool chat_client_conversation_ids = true;

  // Logging
  std::string log_level = "info";
  std::string log_format = "text";  ///< "text" or "json"

  // Connection handling; defaults suit a public endpoint behind a proxy.
  std::chrono::milliseconds http_idle_timeout{60'000};     ///< keep-alive wait for a request
  std::chrono::milliseconds http_request_timeout{15'000};  ///< whole request, once it starts
  std::chrono::milliseconds http_write_timeout{60'000};    ///< one write to a stalled reader
  std::chrono::milliseconds sse_heartbeat_interval{15'000};
  std::chrono::milliseconds shutdown_grace{25'000};
  /// Connections one client (address, IPv6 by /64) may hold open while not
  /// in a request (idle keep-alive, or a request still arriving); 0: no cap.
  int http_max_idle_connections_per_client = 64;

  /// Browser origins allowed to call the API (`https://host[:port]`, or
  /// `*` for any); empty: no CORS headers at all.
  std::vector<std::string> cors_allowed_origins;

  // Abuse limits on the chat and conversations API.
  std::vector<std::string> chat_api_keys;  ///< empty: no key needed
  int chat_rate_limit_per_minute = 60;     ///< per client; 0: no limit
  int chat_rate_limit_burst = 20;          ///< requests a client may make at once
  int chat_max_streams = 10'000;           ///< open chat streams, process-wide; 0: no cap
  /// Peers whose X-Forwarded-For names the client (normalised IP addresses).
  std::vector<std::string> trusted_proxies;
  /// Where a source lives, for the OpenAI-compatible face's citations
  /// (SPEC §10): {slug} and {anchor} are filled in, `#…` dropped for a page.
  std::string source_url_template = "/techniques/{slug}#{anchor}";

  /// The settings as a one-line JSON object with secrets masked, for logs.
  std::string redacted_json() const;
};

/// Masks the password of a URL (`scheme://user:secret@host` becomes
/// `scheme://user:***@host`); anything without one is returned unchanged.
std::string redact_url(const std::string& url);

}  // namespace chrysopedia::config
