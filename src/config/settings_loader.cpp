#include "chrysopedia/config/settings_loader.hpp"

#include <arpa/inet.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "chrysopedia/config/redis_url.hpp"
#include "common/url.hpp"

namespace chrysopedia::config {

namespace {

/// Why a value was refused; the loader adds the variable's name and origin.
struct Invalid {
  std::string reason;
};

template <typename Int>
Int parse_int(const std::string& text, Int lo, Int hi, const char* what) {
  long long v = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || ptr != end || v < lo || v > hi) {
    throw Invalid{"is not " + std::string(what) + " (" + std::to_string(lo) + "-" +
                  std::to_string(hi) + ")"};
  }
  return static_cast<Int>(v);
}

double parse_double(const std::string& text, double lo, double hi, const char* what) {
  if (text.empty()) throw Invalid{"is not " + std::string(what)};
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(v) || v < lo || v > hi) {
    std::ostringstream os;
    os << "is not " << what << " (" << lo << "-" << hi << ")";
    throw Invalid{os.str()};
  }
  return v;
}

bool parse_bool(const std::string& text) {
  std::string t;
  for (char c : text) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "true" || t == "1" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "0" || t == "no" || t == "off") return false;
  throw Invalid{"is not a boolean (true or false)"};
}

std::chrono::milliseconds parse_seconds(const std::string& text, double lo, double hi) {
  const double s = parse_double(text, lo, hi, "a number of seconds");
  return std::chrono::milliseconds(static_cast<long long>(std::llround(s * 1000.0)));
}

std::string parse_host(const std::string& text) {
  if (text == "localhost") return "127.0.0.1";
  unsigned char buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1)
    return text;
  throw Invalid{"is not an IP address to listen on (such as 0.0.0.0, 127.0.0.1 or ::)"};
}

std::string parse_one_of(const std::string& text, std::initializer_list<const char*> allowed) {
  std::string lowered;
  for (char c : text) lowered += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string list;
  for (const char* a : allowed) {
    if (lowered == a) return lowered;
    list += list.empty() ? a : std::string(", ") + a;
  }
  throw Invalid{"is not one of " + list};
}

std::string parse_database_url(const std::string& text) {
  const auto u = common::parse_url(text);
  if (!u || (u->scheme != "postgresql" && u->scheme != "postgres")) {
    throw Invalid{"is not a postgresql://[user[:password]@]host[:port]/dbname URL"};
  }
  return text;
}

std::string parse_redis_url(const std::string& text) {
  if (text.empty()) return text;
  if (config::parse_redis_url(text)) return text;
  throw Invalid{
      "is not a redis://[user:password@]host[:port][/db] or unix:///path[?db=N] URL (empty "
      "disables memory)"};
}

std::string parse_http_url(const std::string& text) {
  if (text.empty()) return text;
  const auto u = common::parse_url(text);
  if (!u || (u->scheme != "http" && u->scheme != "https") || u->host.empty()) {
    throw Invalid{"is not an http:// or https:// URL (empty uses the offline answerer)"};
  }
  // The client appends /chat/completions; a trailing slash would double it.
  std::string out = text;
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

// Comma-separated items, blanks around them trimmed; an all-blank list is
// empty, an empty item between commas is a mistake.
std::vector<std::string> split_list(const std::string& text, const char* what) {
  std::vector<std::string> out;
  if (text.find_first_not_of(" \t,") == std::string::npos) return out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    start = end + 1;
    const auto first = item.find_first_not_of(" \t");
    if (first == std::string::npos) throw Invalid{std::string("has an empty entry; list ") + what};
    out.push_back(item.substr(first, item.find_last_not_of(" \t") - first + 1));
  }
  return out;
}

// An origin is what a browser sends in `Origin`: scheme, host and port,
// lower-case, nothing after them.
std::vector<std::string> parse_origins(const std::string& text) {
  std::vector<std::string> out = split_list(text, "origins such as https://app.example.com, or *");
  for (auto& item : out) {
    if (item == "*") continue;
    for (auto& c : item) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (item.size() > 1 && item.back() == '/') item.pop_back();
    const auto u = common::parse_url(item);
    if (!u || (u->scheme != "http" && u->scheme != "https") || u->host.empty() ||
        !u->path.empty() || !u->query.empty() || !u->user.empty() ||
        item.find_first_of(" \t*") != std::string::npos) {
      throw Invalid{"has \"" + item +
                    "\", which is not an origin (scheme://host[:port], such as "
                    "https://app.example.com) or *"};
    }
  }
  return out;
}

// The value is secret: no reason may quote any of it.
std::vector<std::string> parse_api_keys(const std::string& text) {
  auto keys = split_list(text, "keys separated by commas");
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto& k = keys[i];
    const auto n = std::to_string(i + 1);
    if (k.size() < 16) {
      throw Invalid{"has a key (number " + n + ") of " + std::to_string(k.size()) +
                    " characters; use at least 16 (e.g. openssl rand -hex 24)"};
    }
    for (char c : k) {
      if (c <= ' ' || c > '~') {
        throw Invalid{"has a key (number " + n +
                      ") with a character that cannot go in a header; use letters, digits "
                      "and punctuation other than commas"};
      }
    }
  }
  return keys;
}

std::vector<std::string> parse_proxies(const std::string& text) {
  auto items = split_list(text, "IP addresses separated by commas");
  for (auto& item : items) {
    unsigned char buf[16];
    char out[64];
    if (inet_pton(AF_INET, item.c_str(), buf) == 1) {
      inet_ntop(AF_INET, buf, out, sizeof out);
    } else if (inet_pton(AF_INET6, item.c_str(), buf) == 1) {
      inet_ntop(AF_INET6, buf, out, sizeof out);
    } else {
      throw Invalid{"has \"" + item +
                    "\", which is not an IP address (list the proxies' addresses, such as "
                    "10.0.0.5, separated by commas)"};
    }
    item = out;
  }
  return items;
}

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
  } catch (const nlohmann::json::parse_error& e) {
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
