#include "chrysopedia/config/settings.hpp"

#include <nlohmann/json.hpp>

#include <boost/url/url.hpp>

#include "common/hex.hpp"
#include "common/url.hpp"

namespace chrysopedia::config {

namespace {

constexpr const char* kMask = "***";

bool is_secret_query_key(const std::string& raw) {
  // libpq percent-decodes keywords, so `pass%77ord=` sets the password too.
  std::string key;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%' && i + 2 < raw.size() && common::hex_digit(raw[i + 1]) >= 0 &&
        common::hex_digit(raw[i + 2]) >= 0) {
      key += static_cast<char>(common::hex_digit(raw[i + 1]) * 16 + common::hex_digit(raw[i + 2]));
      i += 2;
    } else {
      key += raw[i];
    }
  }
  for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key.find("password") != std::string::npos || key.find("secret") != std::string::npos ||
         key.find("token") != std::string::npos || key.find("key") != std::string::npos;
}

// libpq also takes `?password=...`; mask the values of such parameters.
std::string redact_query(const std::string& query) {
  std::string out;
  std::size_t start = 0;
  while (start <= query.size()) {
    auto end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    std::string pair = query.substr(start, end - start);
    if (const auto eq = pair.find('=');
        eq != std::string::npos && is_secret_query_key(pair.substr(0, eq))) {
      pair = pair.substr(0, eq + 1) + kMask;
    }
    if (!out.empty() || start > 0) out += '&';
    out += pair;
    start = end + 1;
  }
  return out;
}

double seconds(std::chrono::milliseconds ms) {
  return static_cast<double>(ms.count()) / 1000.0;
}

}  // namespace

std::string redact_url(const std::string& url) {
  const auto parts = common::parse_url(url);
  if (!parts) {
    // Not a URL we understand: it may still hold a secret, so show its shape only.
    return url.empty() ? url : std::string(kMask);
  }
  // What it understood, it masks in place: the rest is kept as written.
  boost::urls::url out(url);
  if (parts->password) out.set_encoded_password(kMask);
  if (!parts->query.empty()) out.set_encoded_query(redact_query(parts->query));
  return std::string(out.buffer());
}

std::string Settings::redacted_json() const {
  nlohmann::ordered_json j;
  j["HOST"] = host;
  j["PORT"] = port;
  j["WORKERS"] = workers;
  j["DATABASE_URL"] = redact_url(database_url);
  j["REDIS_URL"] = redact_url(redis_url);
  std::string replicas;
  for (const auto& u : database_replica_urls)
    replicas += (replicas.empty() ? "" : ",") + redact_url(u);
  j["DATABASE_REPLICA_URLS"] = replicas;
  j["DATABASE_REPLICA_MAX_LAG_SECONDS"] = seconds(database_replica_max_lag);
  j["SEARCH_POOL_SIZE"] = search_pool_size;
  j["SEARCH_TIMEOUT_SECONDS"] = seconds(search_timeout);
  j["EMBEDDINGS_API_URL"] = redact_url(embeddings_api_url);
  j["EMBEDDINGS_MODEL"] = embeddings_model;
  j["EMBEDDINGS_API_KEY"] = embeddings_api_key.empty() ? "" : kMask;
  j["EMBEDDINGS_DIMENSIONS"] = embeddings_dimensions;
  j["EMBEDDINGS_TIMEOUT_SECONDS"] = seconds(embeddings_timeout);
  j["EMBEDDINGS_BATCH_SIZE"] = embeddings_batch_size;
  j["EMBEDDINGS_INDEX_MAX_MIB"] = embeddings_index_max_mib;
  j["EMBEDDINGS_FUSION_WEIGHT"] = embeddings_fusion_weight;
  j["LLM_API_URL"] = redact_url(llm_api_url);
  j["LLM_API_KEY"] = llm_api_key.empty() ? "" : kMask;
  j["LLM_MODEL"] = llm_model;
  j["LLM_TEMPERATURE"] = llm_temperature;
  j["LLM_MAX_TOKENS"] = llm_max_tokens;
  j["LLM_STREAM_USAGE"] = llm_stream_usage;
  j["LLM_FALLBACK_API_URL"] = redact_url(llm_fallback_api_url);
  j["LLM_CONNECT_TIMEOUT_SECONDS"] = seconds(llm_connect_timeout);
  j["LLM_IDLE_TIMEOUT_SECONDS"] = seconds(llm_idle_timeout);
  j["LLM_TOTAL_TIMEOUT_SECONDS"] = seconds(llm_total_timeout);
  j["LLM_MAX_RETRIES"] = llm_max_retries;
  j["LLM_HTTP_CLIENT"] = llm_http_client;
  j["CHAT_MAX_CONTEXT_SOURCES"] = chat_max_context_sources;
  j["CHAT_REWRITE_FOLLOWUPS"] = chat_rewrite_followups;
  j["CHAT_REWRITE_TIMEOUT_SECONDS"] = seconds(chat_rewrite_timeout);
  j["CHAT_HISTORY_MAX_TURN_PAIRS"] = chat_history_max_turn_pairs;
  j["CHAT_HISTORY_TTL_SECONDS"] = chat_history_ttl_seconds;
  j["CHAT_STREAM_RETENTION_SECONDS"] = chat_stream_retention_seconds;
  j["CHAT_STREAM_RESUME"] = chat_stream_resume;
  j["CHAT_STREAM_LIVENESS_SECONDS"] = chat_stream_liveness_seconds;
  j["CHAT_DETACHED_GRACE_SECONDS"] = chat_detached_grace_seconds;
  j["LOG_LEVEL"] = log_level;
  j["LOG_FORMAT"] = log_format;
  j["HTTP_IDLE_TIMEOUT_SECONDS"] = seconds(http_idle_timeout);
  j["HTTP_REQUEST_TIMEOUT_SECONDS"] = seconds(http_request_timeout);
  j["HTTP_WRITE_TIMEOUT_SECONDS"] = seconds(http_write_timeout);
  j["SSE_HEARTBEAT_SECONDS"] = seconds(sse_heartbeat_interval);
  j["SHUTDOWN_GRACE_SECONDS"] = seconds(shutdown_grace);
  j["HTTP_MAX_IDLE_CONNECTIONS_PER_CLIENT"] = http_max_idle_connections_per_client;
  j["CHAT_CLIENT_CONVERSATION_IDS"] = chat_client_conversation_ids;
  std::string origins;
  for (const auto& o : cors_allowed_origins) origins += (origins.empty() ? "" : ",") + o;
  j["CORS_ALLOWED_ORIGINS"] = origins;
  // How many keys, never the keys nor any part of them.
  j["CHAT_API_KEYS"] = chat_api_keys.empty()
                           ? std::string()
                           : kMask + std::string(" (") + std::to_string(chat_api_keys.size()) +
                                 (chat_api_keys.size() == 1 ? " key)" : " keys)");
  j["CHAT_RATE_LIMIT_PER_MINUTE"] = chat_rate_limit_per_minute;
  j["CHAT_RATE_LIMIT_BURST"] = chat_rate_limit_burst;
  j["CHAT_MAX_STREAMS"] = chat_max_streams;
  std::string proxies;
  for (const auto& p : trusted_proxies) proxies += (proxies.empty() ? "" : ",") + p;
  j["TRUSTED_PROXIES"] = proxies;
  j["SOURCE_URL_TEMPLATE"] = source_url_template;
  return j.dump();
}

}  // namespace chrysopedia::config
