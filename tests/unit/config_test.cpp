#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "chrysopedia/config/settings_loader.hpp"
#include "search/fusion.hpp"

using chrysopedia::config::ConfigError;
using chrysopedia::config::EnvLookup;
using chrysopedia::config::load_settings;
using chrysopedia::config::redact_url;
using chrysopedia::config::Settings;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string error_for(std::map<std::string, std::string> vars) {
  try {
    load_settings(env_of(std::move(vars)), std::nullopt);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/chrysopedia-config-XXXXXX";
    const int fd = mkstemp(name);
    ::close(fd);
    path = name;
    std::ofstream(path) << content;
  }
  ~TempFile() { std::remove(path.c_str()); }
};

}  // namespace

TEST(Config, DefaultsMatchTheSpec) {
  const Settings s = load_settings(env_of({}), std::nullopt);
  EXPECT_EQ(s.host, "0.0.0.0");
  EXPECT_EQ(s.port, 8000);
  EXPECT_EQ(s.database_url, "postgresql://localhost/chrysopedia");
  EXPECT_EQ(s.redis_url, "redis://localhost:6379/0");
  EXPECT_EQ(s.llm_api_url, "");
  EXPECT_EQ(s.llm_api_key, "");
  EXPECT_EQ(s.llm_model, "gpt-4o-mini");
  EXPECT_DOUBLE_EQ(s.llm_temperature, 0.3);
  EXPECT_EQ(s.llm_max_tokens, 2048);
  EXPECT_TRUE(s.llm_stream_usage);
  EXPECT_EQ(s.llm_http_client, "auto");
  EXPECT_EQ(s.chat_max_context_sources, 10);
  EXPECT_EQ(s.chat_history_max_turn_pairs, 10);
  EXPECT_EQ(s.chat_history_ttl_seconds, 3600);
  EXPECT_EQ(s.log_level, "info");
  EXPECT_EQ(s.log_format, "text");
  EXPECT_EQ(s.sse_heartbeat_interval, std::chrono::seconds(15));
  EXPECT_EQ(s.search_pool_size, 4);
  EXPECT_EQ(s.search_timeout, std::chrono::seconds(2));
  EXPECT_EQ(s.llm_fallback_api_url, "");
  EXPECT_EQ(s.llm_connect_timeout, std::chrono::seconds(10));
  EXPECT_EQ(s.llm_idle_timeout, std::chrono::seconds(60));
  EXPECT_EQ(s.llm_max_retries, 2);
}

TEST(Config, EnvironmentOverridesDefaults) {
  const Settings s = load_settings(env_of({{"PORT", "9001"},
                                           {"HOST", "127.0.0.1"},
                                           {"LLM_API_URL", "http://localhost:11434/v1/"},
                                           {"LLM_STREAM_USAGE", "false"},
                                           {"LLM_TEMPERATURE", "0.7"},
                                           {"REDIS_URL", ""},
                                           {"LOG_FORMAT", "JSON"},
                                           {"LLM_HTTP_CLIENT", "Curl"},
                                           {"SSE_HEARTBEAT_SECONDS", "0.25"}}),
                                   std::nullopt);
  EXPECT_EQ(s.port, 9001);
  EXPECT_EQ(s.host, "127.0.0.1");
  EXPECT_EQ(s.llm_api_url, "http://localhost:11434/v1") << "a trailing slash is dropped";
  EXPECT_FALSE(s.llm_stream_usage);
  EXPECT_DOUBLE_EQ(s.llm_temperature, 0.7);
  EXPECT_EQ(s.redis_url, "") << "empty REDIS_URL turns memory off";
  EXPECT_EQ(s.log_format, "json");
  EXPECT_EQ(s.llm_http_client, "curl");
  EXPECT_EQ(s.sse_heartbeat_interval, std::chrono::milliseconds(250));
}

TEST(Config, BadValuesNameTheVariableInOneLine) {
  const std::map<std::string, std::string> bad[] = {
      {{"PORT", "abc"}},
      {{"PORT", "70000"}},
      {{"PORT", "80x"}},
      {{"HOST", "not an address"}},
      {{"DATABASE_URL", "mysql://localhost/db"}},
      {{"DATABASE_URL", "postgresql://host:notaport/db"}},
      {{"REDIS_URL", "localhost:6379"}},
      {{"REDIS_URL", "redis://localhost:6379/x"}},
      {{"LLM_API_URL", "ftp://example.com"}},
      {{"LLM_API_URL", "http://"}},
      {{"LLM_TEMPERATURE", "hot"}},
      {{"LLM_MAX_TOKENS", "0"}},
      {{"LLM_STREAM_USAGE", "maybe"}},
      {{"LLM_MODEL", ""}},
      {{"CHAT_MAX_CONTEXT_SOURCES", "-1"}},
      {{"CHAT_HISTORY_TTL_SECONDS", "1.5"}},
      {{"LOG_LEVEL", "verbose"}},
      {{"SEARCH_POOL_SIZE", "0"}},
      {{"LLM_FALLBACK_API_URL", "not a url"}},
      {{"LLM_IDLE_TIMEOUT_SECONDS", "0"}},
      {{"LLM_MAX_RETRIES", "11"}},
      {{"SEARCH_TIMEOUT_SECONDS", "-1"}},
      {{"LOG_FORMAT", "xml"}},
      {{"LLM_HTTP_CLIENT", "native"}},
      {{"SHUTDOWN_GRACE_SECONDS", "forever"}},
  };
  for (const auto& vars : bad) {
    const std::string name = vars.begin()->first;
    const std::string msg = error_for(vars);
    EXPECT_NE(msg.find(name), std::string::npos) << name << ": " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_EQ(msg.rfind("invalid configuration: ", 0), 0u) << msg;
  }
  EXPECT_EQ(error_for({{"PORT", "abc"}}),
            "invalid configuration: PORT=\"abc\" is not a port number (0-65535)");
}

TEST(Config, ErrorsNeverEchoSecretValues) {
  const std::string msg = error_for({{"DATABASE_URL", "mysql://app:hunter2@db/x"}});
  EXPECT_NE(msg.find("DATABASE_URL"), std::string::npos);
  EXPECT_EQ(msg.find("hunter2"), std::string::npos) << msg;
}

TEST(Config, FileSuppliesDefaultsAndTheEnvironmentWins) {
  TempFile f(R"({"PORT": 8123, "LLM_MODEL": "llama3.1", "LLM_STREAM_USAGE": false,
                 "LOG_LEVEL": "debug"})");
  const Settings s = load_settings(env_of({{"LOG_LEVEL", "warn"}}), f.path);
  EXPECT_EQ(s.port, 8123);
  EXPECT_EQ(s.llm_model, "llama3.1");
  EXPECT_FALSE(s.llm_stream_usage);
  EXPECT_EQ(s.log_level, "warn");
}

TEST(Config, FileProblemsAreReportedClearly) {
  TempFile unknown(R"({"PROT": 8123})");
  try {
    load_settings(env_of({}), unknown.path);
    FAIL() << "an unknown key must be refused";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("PROT"), std::string::npos);
  }
  TempFile broken("{not json");
  EXPECT_THROW(load_settings(env_of({}), broken.path), ConfigError);
  TempFile huge(R"({"PORT": 1e999})");
  EXPECT_THROW(load_settings(env_of({}), huge.path), ConfigError) << "not a crash at start-up";
  TempFile array("[1, 2]");
  EXPECT_THROW(load_settings(env_of({}), array.path), ConfigError);
  TempFile bad_value(R"({"PORT": "abc"})");
  try {
    load_settings(env_of({}), bad_value.path);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("PORT"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find(bad_value.path), std::string::npos);
  }
  EXPECT_THROW(load_settings(env_of({}), std::string("/nonexistent/config.json")), ConfigError);
}

TEST(Config, RedactedJsonHidesEverySecret) {
  const Settings s = load_settings(
      env_of({{"DATABASE_URL", "postgresql://app:pg-secret@db:5432/chrysopedia?sslmode=require"},
              {"REDIS_URL", "redis://default:redis-secret@cache:6379/2"},
              {"LLM_API_URL", "https://api.example.com/v1?api_key=url-secret"},
              {"LLM_API_KEY", "sk-live-secret"},
              {"EMBEDDINGS_API_URL", "https://embed.example.com/v1?key=embed-url-secret"},
              {"EMBEDDINGS_MODEL", "text-embedding-3-small"},
              {"EMBEDDINGS_API_KEY", "sk-embed-secret"}}),
      std::nullopt);
  const std::string json = s.redacted_json();
  for (const char* secret : {"pg-secret", "redis-secret", "url-secret", "sk-live-secret",
                             "embed-url-secret", "sk-embed-secret"}) {
    EXPECT_EQ(json.find(secret), std::string::npos) << secret << " leaked: " << json;
  }
  EXPECT_NE(json.find("postgresql://app:***@db:5432/chrysopedia?sslmode=require"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"LLM_API_KEY\":\"***\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"EMBEDDINGS_API_KEY\":\"***\""), std::string::npos) << json;
}

TEST(Config, SemanticSearchAndFollowUpRewriteSettings) {
  const Settings off = load_settings(env_of({}), std::nullopt);
  EXPECT_TRUE(off.embeddings_api_url.empty());
  EXPECT_EQ(off.embeddings_timeout, std::chrono::milliseconds(1000));
  EXPECT_EQ(off.embeddings_batch_size, 64);
  EXPECT_EQ(off.embeddings_index_max_mib, 512);
  EXPECT_EQ(off.embeddings_fusion_weight, chrysopedia::search::kDefaultSemanticWeight);
  EXPECT_FALSE(off.chat_rewrite_followups);
  EXPECT_EQ(off.chat_rewrite_timeout, std::chrono::milliseconds(1500));
  const Settings on = load_settings(env_of({{"EMBEDDINGS_API_URL", "http://localhost:11434/v1"},
                                            {"EMBEDDINGS_MODEL", "nomic-embed-text"},
                                            {"EMBEDDINGS_DIMENSIONS", "256"},
                                            {"EMBEDDINGS_TIMEOUT_SECONDS", "0.25"},
                                            {"EMBEDDINGS_BATCH_SIZE", "16"},
                                            {"EMBEDDINGS_INDEX_MAX_MIB", "128"},
                                            {"EMBEDDINGS_FUSION_WEIGHT", "1"},
                                            {"CHAT_REWRITE_FOLLOWUPS", "true"},
                                            {"CHAT_REWRITE_TIMEOUT_SECONDS", "0.8"}}),
                                    std::nullopt);
  EXPECT_EQ(on.embeddings_model, "nomic-embed-text");
  EXPECT_EQ(on.embeddings_dimensions, 256);
  EXPECT_EQ(on.embeddings_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(on.embeddings_batch_size, 16);
  EXPECT_EQ(on.embeddings_index_max_mib, 128);
  EXPECT_EQ(on.embeddings_fusion_weight, 1.0);
  EXPECT_TRUE(on.chat_rewrite_followups);
  EXPECT_EQ(on.chat_rewrite_timeout, std::chrono::milliseconds(800));
  EXPECT_NE(error_for({{"EMBEDDINGS_API_URL", "http://localhost:11434/v1"}})
                .find("EMBEDDINGS_MODEL is empty"),
            std::string::npos);
  EXPECT_NE(error_for({{"EMBEDDINGS_BATCH_SIZE", "0"}}).find("EMBEDDINGS_BATCH_SIZE"),
            std::string::npos);
  EXPECT_NE(error_for({{"EMBEDDINGS_FUSION_WEIGHT", "0"}}).find("EMBEDDINGS_FUSION_WEIGHT"),
            std::string::npos);
}

TEST(Config, ASourceUrlTemplateNeedsTheSlug) {
  EXPECT_EQ(load_settings(env_of({}), std::nullopt).source_url_template,
            "/techniques/{slug}#{anchor}");
  EXPECT_EQ(load_settings(env_of({{"SOURCE_URL_TEMPLATE", "https://x/{slug}"}}), std::nullopt)
                .source_url_template,
            "https://x/{slug}");
  EXPECT_NE(error_for({{"SOURCE_URL_TEMPLATE", "https://x/page"}}).find("has no {slug}"),
            std::string::npos);
}

TEST(Config, RedactUrl) {
  EXPECT_EQ(redact_url("redis://:pw@host:6379/0"), "redis://:***@host:6379/0");
  EXPECT_EQ(redact_url("redis://host:6379/0"), "redis://host:6379/0");
  EXPECT_EQ(redact_url("postgresql://u:p%40ss@h/db"), "postgresql://u:***@h/db");
  // A raw '@' in a password is no URL (libpq would read the host as
  // "ss@h"): nothing of it shows.
  EXPECT_EQ(redact_url("postgresql://u:p@ss@h/db"), "***");
  EXPECT_EQ(redact_url("postgresql://h/db?password=x&sslmode=disable"),
            "postgresql://h/db?password=***&sslmode=disable");
  EXPECT_EQ(redact_url(""), "");
  EXPECT_EQ(redact_url("user=app password=secret"), "***") << "unparsed text may hold a secret";
}

TEST(Config, CorsAllowedOriginsIsAListOfOriginsOrStar) {
  EXPECT_TRUE(load_settings(env_of({}), std::nullopt).cors_allowed_origins.empty());
  EXPECT_TRUE(load_settings(env_of({{"CORS_ALLOWED_ORIGINS", ""}}), std::nullopt)
                  .cors_allowed_origins.empty());
  const auto s = load_settings(
      env_of({{"CORS_ALLOWED_ORIGINS", " https://App.Example.com/ , http://localhost:5173,*"}}),
      std::nullopt);
  EXPECT_EQ(s.cors_allowed_origins,
            (std::vector<std::string>{"https://app.example.com", "http://localhost:5173", "*"}));
  EXPECT_NE(s.redacted_json().find(R"("CORS_ALLOWED_ORIGINS":"https://app.example.com,)"),
            std::string::npos);
  for (const char* bad :
       {"app.example.com", "https://app.example.com/path", "ftp://x.org",
        "https://a.org,,https://b.org", "https://a.org:99999", "https://*.a.org"}) {
    const auto e = error_for({{"CORS_ALLOWED_ORIGINS", bad}});
    EXPECT_EQ(e.rfind("invalid configuration: CORS_ALLOWED_ORIGINS=\"", 0), 0u) << bad << ": " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << "one line";
  }
}

// Found by fuzz/url_fuzzer: libpq percent-decodes query keywords, so
// `pass%77ord=` sets the password and must be masked like `password=`.
TEST(Config, RedactUrlMasksPercentEncodedSecretKeys) {
  EXPECT_EQ(redact_url("postgresql://h/db?pass%77ord=secret&sslmode=disable"),
            "postgresql://h/db?pass%77ord=***&sslmode=disable");
  EXPECT_EQ(redact_url("postgresql://h/db?%70%61%73%73%77%6F%72%64=secret"),
            "postgresql://h/db?%70%61%73%73%77%6F%72%64=***");
  EXPECT_EQ(redact_url("postgresql://h/db?ssl%50assword=s"), "postgresql://h/db?ssl%50assword=***");
  EXPECT_EQ(redact_url("postgresql://h/db?application_name=a%25b"),
            "postgresql://h/db?application_name=a%25b");
}

TEST(Config, AbuseLimitsDefaultsAndValues) {
  const auto d = load_settings(env_of({}), std::nullopt);
  EXPECT_TRUE(d.chat_api_keys.empty()) << "open by default";
  EXPECT_EQ(d.chat_rate_limit_per_minute, 60);
  EXPECT_EQ(d.chat_rate_limit_burst, 20);
  EXPECT_EQ(d.chat_max_streams, 10'000);
  EXPECT_TRUE(d.trusted_proxies.empty());

  const auto s = load_settings(
      env_of({{"CHAT_API_KEYS", " key-one-0123456789abcdef , key-two-0123456789abcdef"},
              {"CHAT_RATE_LIMIT_PER_MINUTE", "0"},
              {"CHAT_RATE_LIMIT_BURST", "5"},
              {"CHAT_MAX_STREAMS", "0"},
              {"TRUSTED_PROXIES", "10.0.0.1, 2001:DB8::0:1"}}),
      std::nullopt);
  EXPECT_EQ(s.chat_api_keys,
            (std::vector<std::string>{"key-one-0123456789abcdef", "key-two-0123456789abcdef"}));
  EXPECT_EQ(s.chat_rate_limit_per_minute, 0);
  EXPECT_EQ(s.chat_rate_limit_burst, 5);
  EXPECT_EQ(s.chat_max_streams, 0);
  EXPECT_EQ(s.trusted_proxies, (std::vector<std::string>{"10.0.0.1", "2001:db8::1"}));
  EXPECT_TRUE(load_settings(env_of({{"CHAT_API_KEYS", " "}}), std::nullopt).chat_api_keys.empty());

  const std::string json = s.redacted_json();
  EXPECT_EQ(json.find("key-one"), std::string::npos) << json;
  EXPECT_EQ(json.find("key-two"), std::string::npos) << json;
  EXPECT_NE(json.find(R"x("CHAT_API_KEYS":"*** (2 keys)")x"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("TRUSTED_PROXIES":"10.0.0.1,2001:db8::1")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("CHAT_MAX_STREAMS":0)"), std::string::npos) << json;
}

TEST(Config, AbuseLimitsBadValuesNameTheVariableAndNeverTheKey) {
  const std::map<std::string, std::string> bad[] = {
      {{"CHAT_RATE_LIMIT_PER_MINUTE", "-1"}},
      {{"CHAT_RATE_LIMIT_PER_MINUTE", "lots"}},
      {{"CHAT_RATE_LIMIT_BURST", "0"}},
      {{"CHAT_MAX_STREAMS", "1.5"}},
      {{"TRUSTED_PROXIES", "proxy.internal"}},
      {{"TRUSTED_PROXIES", "10.0.0.1,,10.0.0.2"}},
      {{"CHAT_API_KEYS", "short-secret"}},
      {{"CHAT_API_KEYS", "good-key-0123456789abcdef,,other-key-0123456789ab"}},
      {{"CHAT_API_KEYS", "has a space-secret-0123456789"}},
  };
  for (const auto& vars : bad) {
    const std::string name = vars.begin()->first;
    const std::string msg = error_for(vars);
    EXPECT_EQ(msg.rfind("invalid configuration: " + name, 0), 0u) << name << ": " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_EQ(msg.find("secret"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("0123456789"), std::string::npos) << msg;
  }
}

TEST(Config, HotStandbysAreAListOfPostgresUrls) {
  const Settings none = load_settings(env_of({}), std::nullopt);
  EXPECT_TRUE(none.database_replica_urls.empty());
  EXPECT_EQ(none.database_replica_max_lag, std::chrono::seconds(5));
  const Settings s = load_settings(
      env_of({{"DATABASE_REPLICA_URLS",
               " postgresql://app:standby-secret@standby-a/chrysopedia ,postgres://standby-b/c"},
              {"DATABASE_REPLICA_MAX_LAG_SECONDS", "2.5"}}),
      std::nullopt);
  EXPECT_EQ(s.database_replica_urls,
            (std::vector<std::string>{"postgresql://app:standby-secret@standby-a/chrysopedia",
                                      "postgres://standby-b/c"}));
  EXPECT_EQ(s.database_replica_max_lag, std::chrono::milliseconds(2500));
  const std::string json = s.redacted_json();
  EXPECT_EQ(json.find("standby-secret"), std::string::npos) << json;
  EXPECT_NE(json.find("postgresql://app:***@standby-a/chrysopedia,postgres://standby-b/c"),
            std::string::npos)
      << json;
  const std::string msg =
      error_for({{"DATABASE_REPLICA_URLS", "postgresql://ok/db,mysql://app:hunter2@db/x"}});
  EXPECT_NE(msg.find("DATABASE_REPLICA_URLS"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("hunter2"), std::string::npos) << msg;
  EXPECT_NE(error_for({{"DATABASE_REPLICA_MAX_LAG_SECONDS", "0"}}).find("MAX_LAG"),
            std::string::npos);
}
