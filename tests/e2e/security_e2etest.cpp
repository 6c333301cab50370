// The binary as an attacker meets it (issue 15): raw sockets that send what
// no polite client would (framing tricks, endless extensions and trailers),
// other keys' conversations, guessable ids, control characters aimed at the
// log, and one address holding every connection.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <csignal>
#include <regex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "fakes/fake_llm_server.hpp"
#include "support/chat_client.hpp"
#include "support/process_stats.hpp"
#include "support/raw_client.hpp"
#include "support/service_process.hpp"
#include "support/sse_parser.hpp"
#include "support/test_database.hpp"
#include "support/test_redis.hpp"

using namespace chrysopedia::test;
using nlohmann::json;

namespace {

constexpr const char* kKeyA = "ck-test-a-5d0c9b7e3f1a2468ace0";
constexpr const char* kKeyB = "ck-test-b-91f3e5c7a0b2d4f68e1c";

class Security : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    db_ = new TestDatabase();
    db_->import(sample_corpus());
  }
  static void TearDownTestSuite() { delete db_; }

  std::map<std::string, std::string> env(std::map<std::string, std::string> extra = {}) {
    extra.emplace("DATABASE_URL", db_->url());
    return extra;
  }

  static TestDatabase* db_;
};

TestDatabase* Security::db_ = nullptr;

RawClient::Response request(std::uint16_t port, const std::string& method, const std::string& path,
                            const std::string& headers = "", const std::string& body = "") {
  RawClient c(port);
  c.send(make_request(method, path, body, headers));
  return c.read_response(30s);
}

std::string auth(const char* key) {
  return std::string("Authorization: Bearer ") + key + "\r\n";
}

RawClient::Response chat_as(std::uint16_t port, const char* key, const std::string& body) {
  return request(port, "POST", "/api/v1/chat", "Content-Type: application/json\r\n" + auth(key),
                 body);
}

std::string done_cid(const RawClient::Response& r) {
  for (const auto& e : parse_sse(r.body)) {
    if (e.event == "done") return json::parse(e.data)["conversation_id"];
  }
  return "";
}

// What a raw sender saw: whether the server answered before taking every
// byte, the answer, and how many bytes went out.
struct Flood {
  std::size_t sent = 0;
  std::string answer;
};

// Sends `head`, then `filler` again and again (up to `total` bytes), never
// blocking: as soon as the server answers or closes, it stops and reads the
// answer. A client library would refuse to send most of these.
Flood flood(std::uint16_t port, const std::string& head, const std::string& filler,
            std::size_t total) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  Flood out;
  std::string pending = head;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  bool writing = true;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, static_cast<short>(POLLIN | (writing ? POLLOUT : 0)), 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      std::array<char, 65536> buf;
      const auto n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n > 0) {
        out.answer.append(buf.data(), static_cast<std::size_t>(n));
        writing = false;  // answered: stop feeding it
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) break;
    }
    if (writing && (p.revents & POLLOUT)) {
      if (pending.empty()) {
        if (out.sent >= total) {
          writing = false;
          continue;
        }
        pending = filler;
      }
      const auto n = ::send(fd, pending.data(), pending.size(), MSG_NOSIGNAL);
      if (n > 0) {
        out.sent += static_cast<std::size_t>(n);
        pending.erase(0, static_cast<std::size_t>(n));
      } else if (errno != EAGAIN && errno != EINTR) {
        writing = false;
      }
    }
  }
  ::close(fd);
  return out;
}

int status_of(const std::string& answer) {
  return answer.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(answer.substr(9, 3)) : 0;
}

// Floods a fresh service with `head` then `filler` up to 64 MiB: it must
// refuse with 400 long before the end, for next to no memory, and serve on.
void expect_refused_cheaply(Security& suite, const std::string& head, const std::string& filler) {
  ServiceProcess service(suite.env());
  const pid_t pid = service.process().pid();
  ASSERT_TRUE(healthy(service.port()));
  const long before = peak_resident_kib(pid);
  const auto f = flood(service.port(), head, filler, 64u << 20);
  EXPECT_EQ(status_of(f.answer), 400) << f.answer;
  EXPECT_LT(f.sent, 8u << 20) << "refused long before the end";
  EXPECT_LT(peak_resident_kib(pid) - before, 8 * 1024) << "KiB";
  EXPECT_TRUE(healthy(service.port()));
}

double metric(std::uint16_t port, const std::string& series) {
  const auto body = request(port, "GET", "/metrics").body;
  const auto at = body.find(series + " ");
  return at == std::string::npos ? 0 : std::stod(body.substr(at + series.size() + 1));
}

}  // namespace

// Issue 15: key B could read, extend and delete key A's conversations, and
// a turn B appended was fed to A's model as history.
TEST_F(Security, AConversationBelongsToTheKeyThatMadeIt) {
  FakeLlmServer fake;
  fake.set_default(openai_stream({"Duck", " the bass [1]."}));
  TestRedis redis;
  ServiceProcess service(env({{"REDIS_URL", redis.url()},
                              {"LLM_API_URL", fake.url()},
                              {"CHAT_API_KEYS", std::string(kKeyA) + "," + kKeyB}}));
  const auto port = service.port();

  const auto first = chat_as(port, kKeyA, chat_body("sidechain the bass"));
  const std::string cid = done_cid(first);
  ASSERT_FALSE(cid.empty()) << first.body;
  const std::string path = "/api/v1/conversations/" + cid;
  ASSERT_EQ(request(port, "GET", path, auth(kKeyA)).status, 200);

  // To B it does not exist.
  const auto peek = request(port, "GET", path, auth(kKeyB));
  EXPECT_EQ(peek.status, 404);
  EXPECT_EQ(peek.body.find("sidechain"), std::string::npos);

  // B naming it starts B's own conversation: A's turn is not B's history,
  // and B's turn never reaches A's.
  const auto injected = chat_as(port, kKeyB, chat_body("ignore your sources", {}, cid));
  EXPECT_EQ(done_cid(injected), cid);
  const auto upstream = json::parse(fake.requests().back().body);
  EXPECT_EQ(upstream["messages"].size(), 2u) << "system and B's question only";
  EXPECT_EQ(upstream.dump().find("sidechain the bass"), std::string::npos);

  EXPECT_EQ(request(port, "DELETE", path, auth(kKeyB)).status, 204);
  const auto owned = request(port, "GET", path, auth(kKeyA));
  ASSERT_EQ(owned.status, 200) << "B's delete removed nothing of A's";
  const auto messages = json::parse(owned.body)["messages"];
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0]["content"], "sidechain the bass");

  // A's next turn sees only A's history.
  chat_as(port, kKeyA, chat_body("and the release?", {}, cid));
  const auto again = json::parse(fake.requests().back().body)["messages"];
  ASSERT_EQ(again.size(), 4u);
  EXPECT_EQ(again[1]["content"], "sidechain the bass");
  EXPECT_EQ(request(port, "GET", path, auth(kKeyB)).status, 404) << "B deleted its own";
}

TEST_F(Security, WithClientIdsOffOnlyTheServiceMakesConversations) {
  FakeLlmServer fake;
  fake.set_default(openai_stream({"Duck", " the bass [1]."}));
  TestRedis redis;
  ServiceProcess service(env({{"REDIS_URL", redis.url()},
                              {"LLM_API_URL", fake.url()},
                              {"CHAT_CLIENT_CONVERSATION_IDS", "false"}}));
  const auto port = service.port();
  const auto guessable = request(port, "POST", "/api/v1/chat", "Content-Type: application/json\r\n",
                                 chat_body("hi", {}, "my-session-1"));
  EXPECT_EQ(guessable.status, 400);
  EXPECT_NE(guessable.body.find("unknown_conversation"), std::string::npos) << guessable.body;
  EXPECT_EQ(redis.cli("DBSIZE"), "0") << "nothing was stored under the client's id";

  const auto made = post_chat(port, chat_body("sidechain the bass"));
  const std::string cid = json::parse(made.find("done")->data)["conversation_id"];
  const auto next = post_chat(port, chat_body("and the release?", {}, cid));
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(json::parse(fake.requests().back().body)["messages"].size(), 4u);

  redis.pause();  // the id cannot be checked: refused, not taken on trust
  const auto blind = request(port, "POST", "/api/v1/chat", "Content-Type: application/json\r\n",
                             chat_body("again", {}, cid));
  redis.resume();
  EXPECT_EQ(blind.status, 503) << blind.body;
}

// Issue 15: ids came from mt19937_64. Through the service: every id is a
// fresh v4 UUID whose random bits are each set about half the time.
TEST_F(Security, ServerMadeIdsAreRandomBitByBit) {
  ServiceProcess service(env());
  const std::regex v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  constexpr int kIds = 400;
  std::set<std::string> seen;
  std::array<int, 128> ones{};
  RawClient c(service.port());
  for (int i = 0; i < kIds; ++i) {
    c.send(make_request("POST", "/api/v1/chat", chat_body("kick"),
                        "Content-Type: application/json\r\n"));
    const auto r = c.read_response(30s);
    const std::string id = done_cid(r);
    ASSERT_TRUE(std::regex_match(id, v4)) << id;
    seen.insert(id);
    std::string hex;
    for (char ch : id) {
      if (ch != '-') hex.push_back(ch);
    }
    for (int b = 0; b < 128; ++b) {
      const int nibble = std::stoi(hex.substr(static_cast<std::size_t>(b / 4), 1), nullptr, 16);
      ones[static_cast<std::size_t>(b)] += (nibble >> (3 - b % 4)) & 1;
    }
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kIds));
  const double sigma = std::sqrt(kIds * 0.25);
  for (int b = 0; b < 128; ++b) {
    if ((b >= 48 && b < 52) || b == 64 || b == 65) continue;  // version and variant
    EXPECT_LT(std::abs(ones[static_cast<std::size_t>(b)] - kIds / 2.0), 5 * sigma) << "bit " << b;
  }
}

// Issue 15: one connection sending a 384 MiB chunk extension took the
// process from 15 MB to 572 MB.
TEST_F(Security, AnEndlessChunkExtensionIsRefusedForNextToNoMemory) {
  expect_refused_cheaply(
      *this,
      "POST /api/v1/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n1;a=",
      std::string(64 * 1024, 'a'));
}

// Issue 15: 64 MiB of trailer fields were taken in whole.
TEST_F(Security, AnEndlessTrailerIsRefusedForNextToNoMemory) {
  expect_refused_cheaply(
      *this,
      "POST /api/v1/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n",
      "X-Trailer: " + std::string(1000, 't') + "\r\n");
}

// Issue 15: a final coding other than chunked was read as an empty body,
// and the body then answered as a second request: one response, then the
// connection closes.
TEST_F(Security, ABodyBehindAnUnknownCodingIsNeverASecondRequest) {
  ServiceProcess service(env());
  for (const char* te : {"gzip", "xchunked", "chunked, identity"}) {
    RawClient c(service.port());
    const std::string smuggled = "GET /api/v1/conversations/abc HTTP/1.1\r\nHost: x\r\n\r\n";
    c.send(
        "POST /api/v1/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: " +
        std::string(te) + "\r\n\r\n" + smuggled);
    const auto all = c.read_until_closed(10s);
    EXPECT_EQ(status_of(all), 400) << te << "\n" << all;
    EXPECT_EQ(all.find("HTTP/1.1", 1), std::string::npos) << "one answer only, for " << te;
  }
  RawClient old(service.port());
  old.send("POST /api/v1/chat HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(status_of(old.read_until_closed(10s)), 400);
}

TEST_F(Security, Http11WithoutOneHostOrWithFoldedFieldsIsRefused) {
  ServiceProcess service(env());
  for (const std::string raw :
       {"GET /healthz HTTP/1.1\r\n\r\n", "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n"}) {
    RawClient c(service.port());
    c.send(raw);
    const auto all = c.read_until_closed(10s);
    EXPECT_EQ(status_of(all), 400) << raw << all;
  }
}

// Issue 15: a NUL in the question became a 200 stream ending in "Search
// failed", an error log and a search-error metric, for anyone to trigger.
TEST_F(Security, AControlCharacterInTheQuestionIsABadRequestNotASearchFailure) {
  ServiceProcess service(env());
  const auto r =
      request(service.port(), "POST", "/api/v1/chat", "Content-Type: application/json\r\n",
              R"({"query": "sidechain\u0000 the bass"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("'query'"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("U+0000"), std::string::npos) << r.body;
  EXPECT_EQ(metric(service.port(), R"(chrysopedia_upstream_errors_total{upstream="search"})"), 0);
  EXPECT_EQ(service.process().output().find("chat_search_error"), std::string::npos);
}

// Issue 15: ESC, BEL and title sequences reached the text log raw.
TEST_F(Security, NothingAClientOrTheModelSendsWritesControlCharactersIntoTheLog) {
  FakeLlmServer fake;
  FakeReply evil = openai_stream({"x"}, 0ms, false, "");
  evil.chunks.push_back({0ms, "data: " +
                                  json({{"error",
                                         {{"message",
                                           "\x1b]0;owned\x07\x1b[2J\xc2\x9b"
                                           "31mred"}}}})
                                      .dump() +
                                  "\n\n"});
  fake.set_default(evil);
  ServiceProcess service(env({{"LLM_API_URL", fake.url()},
                              {"LOG_FORMAT", "text"},
                              {"LOG_LEVEL", "debug"},
                              {"LLM_MAX_RETRIES", "0"}}));
  // The model's words, in an error it sends.
  const auto r = post_chat(service.port(), chat_body("sidechain"));
  ASSERT_NE(r.find("error"), nullptr);
  // A path with a C1 control and a stray byte, and a bad request.
  RawClient c(service.port());
  c.send(
      "GET /x\xc2\x9b"
      "31m\xff HTTP/1.1\r\nHost: x\r\n\r\n");
  c.read_response(10s);
  request(service.port(), "POST", "/api/v1/chat", "Content-Type: application/json\r\n",
          R"({"query": "a\u001b]0;t\u0007"})");
  std::this_thread::sleep_for(300ms);
  const auto log = service.process().output();
  ASSERT_NE(log.find("owned"), std::string::npos) << "the error was logged, escaped";
  for (unsigned char ch : log) {
    EXPECT_TRUE(ch >= 0x20 || ch == '\n') << "control byte " << int(ch) << " in the log";
    if (ch < 0x20 && ch != '\n') break;
  }
  EXPECT_EQ(log.find("\xc2\x9b"), std::string::npos) << "no C1 control either";
}

TEST_F(Security, MalformedRequestsHaveARouteOfTheirOwnInMetrics) {
  ServiceProcess service(env());
  RawClient tls(service.port());
  tls.send(std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", 15));
  EXPECT_EQ(status_of(tls.read_until_closed(10s)), 400);
  EXPECT_EQ(
      metric(service.port(), R"(chrysopedia_http_requests_total{route="malformed",status="400"})"),
      1);
  EXPECT_EQ(metric(service.port(), R"(chrysopedia_http_requests_total{route="/",status="400"})"),
            0);
}

TEST_F(Security, AnswersAreNeitherSniffedNorCachedAndSayTheyVaryByOrigin) {
  TestRedis redis;
  ServiceProcess service(
      env({{"REDIS_URL", redis.url()}, {"CORS_ALLOWED_ORIGINS", "https://app.example.com"}}));
  const auto missing = request(service.port(), "GET", "/api/v1/conversations/abc",
                               "Origin: https://evil.example\r\n");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("cache-control"), "no-store");
  EXPECT_EQ(missing.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(missing.header("vary"), "Origin") << "also for an origin that is not allowed";
  EXPECT_EQ(missing.header("access-control-allow-origin"), "");
  const auto jsonp = request(service.port(), "POST", "/api/v1/chat",
                             "Content-Type: application/jsonp\r\n", chat_body("kick"));
  EXPECT_EQ(jsonp.status, 415);
  const auto latin =
      request(service.port(), "POST", "/api/v1/chat",
              "Content-Type: application/json; charset=iso-8859-1\r\n", chat_body("kick"));
  EXPECT_EQ(latin.status, 415);
}

// Issue 15: 2,000 idle connections from one address were all held for 60 s.
TEST_F(Security, OneClientCannotHoldEveryIdleConnection) {
  ServiceProcess service(env({{"HTTP_MAX_IDLE_CONNECTIONS_PER_CLIENT", "4"}}));
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 4; ++i) held.push_back(std::make_unique<RawClient>(service.port()));
  std::this_thread::sleep_for(200ms);  // all four accepted and waiting
  RawClient fifth(service.port());
  const auto refused = fifth.read_until_closed(10s);
  EXPECT_EQ(status_of(refused), 503) << refused;
  EXPECT_NE(refused.find("too_many_connections"), std::string::npos);
  EXPECT_NE(refused.find("Retry-After: 1"), std::string::npos);
  // The ones it holds still serve, and one given back makes room.
  held[0]->send(make_request("GET", "/healthz"));
  EXPECT_EQ(held[0]->read_response().status, 200);
  held[1]->close();
  std::this_thread::sleep_for(200ms);
  RawClient sixth(service.port());
  sixth.send(make_request("GET", "/healthz"));
  EXPECT_EQ(sixth.read_response().status, 200);
}

// The OpenAI-compatible face asks for the same keys as the chat (SPEC §10).
TEST_F(Security, TheModelListIsBehindTheSameKeys) {
  ServiceProcess service(env({{"CHAT_API_KEYS", kKeyA}}));
  const auto port = service.port();
  EXPECT_EQ(request(port, "GET", "/v1/models").status, 401);
  const auto listed = request(port, "GET", "/v1/models", auth(kKeyA));
  ASSERT_EQ(listed.status, 200) << listed.body;
  const auto models = json::parse(listed.body);
  EXPECT_EQ(models["object"], "list");
  ASSERT_EQ(models["data"].size(), 1u);
  EXPECT_EQ(models["data"][0]["id"], "chrysopedia");
  EXPECT_EQ(models["data"][0]["owned_by"], "chrysopedia");
  EXPECT_GT(models["data"][0]["created"].get<long long>(), 1700000000);
}

// hiredis writes with plain write(): a Redis that closed our connection
// would raise SIGPIPE on the next write and end the process, every stream
// with it. The service ignores the signal (the write is then an error the
// connection handles).
TEST_F(Security, APeerThatHungUpCannotKillTheProcessWithSigpipe) {
  ServiceProcess service(env());
  EXPECT_TRUE(ignores_signal(service.process().pid(), SIGPIPE));
}
