#include "chrysopedia/config/settings_loader.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/setting_values.hpp"

namespace chrysopedia::config {

namespace {

using namespace values;

struct Field {
  const char* name;
  bool secret;  // never echo the value in an error
  std::function<void(Settings&, const std::string&)> apply;
};

const std::vector<Field>& fields() {
  static const std::vector<Field> table = {
      {"HOST", false, [](Settings& s, const std::string& v) { s.host = parse_host(v); }},
      {"PORT", false,
       [](Settings& s, const std::string& v) {
         s.port = parse_int<std::uint16_t>(v, 0, 65535, "a port number");
       }},
      {"WORKERS", false,
       [](Settings& s, const std::string& v) {
         s.workers = parse_int<unsigned>(v, 0, 256, "a number of event loops (0: one per core)");
       }},
      {"DATABASE_URL", true,
       [](Settings& s, const std::string& v) { s.database_url = parse_database_url(v); }},
      {"REDIS_URL", true,
       [](Settings& s, const std::string& v) { s.redis_url = parse_redis_url(v); }},
      {"DATABASE_REPLICA_URLS", true,
       [](Settings& s, const std::string& v) {
         s.database_replica_urls.clear();
         std::size_t start = 0;
         while (start <= v.size()) {
           const auto comma = std::min(v.find(',', start), v.size());
           std::string url = v.substr(start, comma - start);
           while (!url.empty() && url.front() == ' ') url.erase(url.begin());
           while (!url.empty() && url.back() == ' ') url.pop_back();
           if (!url.empty()) s.database_replica_urls.push_back(parse_database_url(url));
           start = comma + 1;
         }
       }},
      {"DATABASE_REPLICA_MAX_LAG_SECONDS", false,
       [](Settings& s, const std::string& v) {
         s.database_replica_max_lag = parse_seconds(v, 0.1, 3600);
       }},
      {"SEARCH_POOL_SIZE", false,
       [](Settings& s, const std::string& v) {
         s.search_pool_size = parse_int<int>(v, 1, 64, "a number of connections");
       }},
      {"SEARCH_TIMEOUT_SECONDS", false,
       [](Settings& s, const std::string& v) { s.search_timeout = parse_seconds(v, 0.05, 60); }},
      {"EMBEDDINGS_API_URL", true,
       [](Settings& s, const std::string& v) {
         s.embeddings_api_url = v.empty() ? v : parse_http_url(v);
       }},
      {"EMBEDDINGS_MODEL", false,
       [](Settings& s, const std::string& v) { s.embeddings_model = v; }},
      {"EMBEDDINGS_API_KEY", true,
       [](Settings& s, const std::string& v) { s.embeddings_api_key = v; }},
      {"EMBEDDINGS_DIMENSIONS", false,
       [](Settings& s, const std::string& v) {
         s.embeddings_dimensions =
             parse_int<int>(v, 0, 65536, "a number of dimensions (0: the model's own)");
       }},
      {"EMBEDDINGS_TIMEOUT_SECONDS", false,
       [](Settings& s, const std::string& v) {
         s.embeddings_timeout = parse_seconds(v, 0.01, 60);
       }},
      {"EMBEDDINGS_BATCH_SIZE", false,
       [](Settings& s, const std::string& v) {
         s.embeddings_batch_size = parse_int<int>(v, 1, 2048, "a number of texts per request");
       }},
      {"CHAT_REWRITE_FOLLOWUPS", false,
       [](Settings& s, const std::string& v) { s.chat_rewrite_followups = parse_bool(v); }},
      {"CHAT_REWRITE_TIMEOUT_SECONDS", false,
       [](Settings& s, const std::string& v) {
         s.chat_rewrite_timeout = parse_seconds(v, 0.05, 30);
       }},
      {"EMBEDDINGS_FUSION_WEIGHT", false,
       [](Settings& s, const std::string& v) {
         s.embeddings_fusion_weight = parse_double(v, 0.01, 100.0, "a weight");
       }},
      {"EMBEDDINGS_INDEX_MAX_MIB", false,
       [](Settings& s, const std::string& v) {
         s.embeddings_index_max_mib = parse_int<int>(v, 1, 1 << 20, "a size in MiB");
       }},
      {"LLM_API_URL", true,
       [](Settings& s, const std::string& v) { s.llm_api_url = parse_http_url(v); }},
      {"LLM_FALLBACK_API_URL", true,
       [](Settings& s, const std::string& v) { s.llm_fallback_api_url = parse_http_url(v); }},
      {"LLM_CONNECT_TIMEOUT_SECONDS", false,
       [](Settings& s, const std::string& v) {
         s.llm_connect_timeout = parse_seconds(v, 0.1, 300);
       }},
      {"LLM_IDLE_TIMEOUT_SECONDS", false,
       [](Settings& s, const std::string& v) { s.llm_idle_timeout = parse_seconds(v, 0.1, 3600); }},
      {"LLM_TOTAL_TIMEOUT_SECONDS", false,
       [](Settings& s, const std::string& v) { s.llm_total_timeout = parse_seconds(v, 1, 86400); }},
      {"LLM_MAX_RETRIES", false,
       [](Settings& s, const std::string& v) {
         s.llm_max_retries = parse_int<int>(v, 0, 10, "a number of retries");
       }},
      {"LLM_HTTP_CLIENT", false,
       [](Settings& s, const std::string& v) {
         s.llm_http_client = parse_one_of(v, {"auto", "curl"});
       }},
      {"LLM_API_KEY", true, [](Settings& s, const std::string& v) { s.llm_api_key = v; }},
      {"LLM_MODEL", false,
       [](Settings& s, const std::string& v) {
         if (v.empty()) throw Invalid{"is empty; name the model to ask"};
         s.llm_model = v;
       }},
      {"LLM_TEMPERATURE", false,
       [](Settings& s, const std::string& v) {
         s.llm_temperature = parse_double(v, 0.0, 2.0, "a temperature");
       }},
      {"LLM_MAX_TOKENS", false,
       [](Settings& s, const std::string& v) {
         s.llm_max_tokens = parse_int<int>(v, 1, 1'000'000, "a token count");
       }},
      {"LLM_STREAM_USAGE", false,
       [](Settings& s, const std::string& v) { s.llm_stream_usage = parse_bool(v); }},
      {"CHAT_MAX_CONTEXT_SOURCES", false,
       [](Settings& s, const std::string& v) {
         s.chat_max_context_sources = parse_int<int>(v, 1, 50, "a number of sources");
       }},
      {"CHAT_HISTORY_MAX_TURN_PAIRS", false,
       [](Settings& s, const std::string& v) {
         s.chat_history_max_turn_pairs = parse_int<int>(v, 0, 1000, "a number of turn pairs");
       }},
      {"CHAT_HISTORY_TTL_SECONDS", false,
       [](Settings& s, const std::string& v) {
         s.chat_history_ttl_seconds = parse_int<int>(v, 1, 31'536'000, "a number of seconds");
       }},
      {"CHAT_STREAM_RETENTION_SECONDS", false,
       [](Settings& s, const std::string& v) {
         s.chat_stream_retention_seconds = parse_int<int>(v, 1, 86'400, "a number of seconds");
       }},
      {"CHAT_STREAM_LIVENESS_SECONDS", false,
       [](Settings& s, const std::string& v) {
         s.chat_stream_liveness_seconds = parse_int<int>(v, 1, 300, "a number of seconds");
       }},
      {"CHAT_DETACHED_GRACE_SECONDS", false,
       [](Settings& s, const std::string& v) {
         s.chat_detached_grace_seconds = parse_int<int>(v, 0, 3600, "a number of seconds");
       }},
      {"CHAT_STREAM_RESUME", false,
       [](Settings& s, const std::string& v) { s.chat_stream_resume = parse_bool(v); }},
      {"CHAT_CLIENT_CONVERSATION_IDS", false,
       [](Settings& s, const std::string& v) { s.chat_client_conversation_ids = parse_bool(v); }},
      {"LOG_LEVEL", false,
       [](Settings& s, const std::string& v) {
         s.log_level =
             parse_one_of(v, {"trace", "debug", "info", "warn", "error", "critical", "off"});
       }},
      {"LOG_FORMAT", false,
       [](Settings& s, const std::string& v) {
         s.log_format = parse_one_of(v, {"text", "json"});
       }},
      {"HTTP_IDLE_TIMEOUT_SECONDS", false,
       [](Settings& s, const std::string& v) {
         s.http_idle_timeout = parse_seconds(v, 0.01, 3600);
       }},
      {"HTTP_REQUEST_TIMEOUT_SECONDS", false,
       [](Settings& s, const std::string& v) {
         s.http_request_timeout = parse_seconds(v, 0.01, 3600);
       }},
      {"HTTP_WRITE_TIMEOUT_SECONDS", false,
       [](Settings& s, const std::string& v) {
         s.http_write_timeout = parse_seconds(v, 0.01, 3600);
       }},
      {"SSE_HEARTBEAT_SECONDS", false,
       [](Settings& s, const std::string& v) {
         s.sse_heartbeat_interval = parse_seconds(v, 0.01, 3600);
       }},
      {"HTTP_MAX_IDLE_CONNECTIONS_PER_CLIENT", false,
       [](Settings& s, const std::string& v) {
         s.http_max_idle_connections_per_client =
             parse_int<int>(v, 0, 10'000'000, "a number of connections (0: no cap)");
       }},
      {"SHUTDOWN_GRACE_SECONDS", false,
       [](Settings& s, const std::string& v) { s.shutdown_grace = parse_seconds(v, 0, 3600); }},
      {"CORS_ALLOWED_ORIGINS", false,
       [](Settings& s, const std::string& v) { s.cors_allowed_origins = parse_origins(v); }},
      {"CHAT_API_KEYS", true,
       [](Settings& s, const std::string& v) { s.chat_api_keys = parse_api_keys(v); }},
      {"CHAT_RATE_LIMIT_PER_MINUTE", false,
       [](Settings& s, const std::string& v) {
         s.chat_rate_limit_per_minute =
             parse_int<int>(v, 0, 1'000'000, "a number of requests a minute (0: no limit)");
       }},
      {"CHAT_RATE_LIMIT_BURST", false,
       [](Settings& s, const std::string& v) {
         s.chat_rate_limit_burst = parse_int<int>(v, 1, 1'000'000, "a number of requests");
       }},
      {"CHAT_MAX_STREAMS", false,
       [](Settings& s, const std::string& v) {
         s.chat_max_streams = parse_int<int>(v, 0, 10'000'000, "a number of streams (0: no cap)");
       }},
      {"TRUSTED_PROXIES", false,
       [](Settings& s, const std::string& v) { s.trusted_proxies = parse_proxies(v); }},
      {"SOURCE_URL_TEMPLATE", false,
       [](Settings& s, const std::string& v) {
         if (v.find("{slug}") == std::string::npos) {
           throw Invalid{"has no {slug} (e.g. https://chrysopedia.example/techniques/{slug}#{anchor})"};
         }
         s.source_url_template = v;
       }},
  };
  return table;
}

void apply(Settings& s, const Field& f, const std::string& value, const std::string& origin) {
  try {
    f.apply(s, value);
  } catch (const Invalid& e) {
    const std::string shown = f.secret ? std::string() : "=\"" + value + "\"";
    throw ConfigError("invalid configuration: " + std::string(f.name) + shown + origin + " " +
                      e.reason);
  }
}

std::string json_value_as_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number() || v.is_null()) return v.is_null() ? std::string() : v.dump();
  throw Invalid{"must be a string, number or boolean"};
}

void apply_file(Settings& s, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("invalid configuration: --config " + path + " cannot be read");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    // Not only parse errors: a number past a double's range is out_of_range.
    throw ConfigError("invalid configuration: --config " + path + " is not valid JSON (" +
                      e.what() + ")");
  }
  if (!doc.is_object()) {
    throw ConfigError("invalid configuration: --config " + path +
                      " must hold a JSON object of VARIABLE: value");
  }
  for (const auto& [key, value] : doc.items()) {
    const Field* field = nullptr;
    for (const auto& f : fields()) {
      if (key == f.name) field = &f;
    }
    if (!field) {
      throw ConfigError("invalid configuration: --config " + path + " has unknown key \"" + key +
                        "\"");
    }
    std::string text;
    try {
      text = json_value_as_text(value);
    } catch (const Invalid& e) {
      throw ConfigError("invalid configuration: " + key + " (from " + path + ") " + e.reason);
    }
    apply(s, *field, text, " (from " + path + ")");
  }
}

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (const char* v = std::getenv(name.c_str())) return std::string(v);
    return std::nullopt;
  };
}

Settings load_settings(const EnvLookup& env, const std::optional<std::string>& config_file) {
  Settings s;
  if (config_file) apply_file(s, *config_file);
  for (const auto& f : fields()) {
    if (auto v = env(f.name)) apply(s, f, *v, "");
  }
  if (!s.embeddings_api_url.empty() && s.embeddings_model.empty()) {
    throw ConfigError(
        "invalid configuration: EMBEDDINGS_MODEL is empty; name the embeddings model to ask"
        " (EMBEDDINGS_API_URL is set), or unset EMBEDDINGS_API_URL for full-text search only");
  }
  return s;
}

}  // namespace chrysopedia::config
