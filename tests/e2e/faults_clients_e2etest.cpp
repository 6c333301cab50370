// Fault injection from the client side (issue 9): slowloris, ten thousand
// abandoned connections, pipelining, HTTP/1.0, huge headers, against the
// binary. Each checks the answer the client gets and that other clients are
// served meanwhile and afterwards; the flood also checks that descriptors
// and memory come back.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include <nlohmann/json.hpp>

#include "fakes/fake_llm_server.hpp"
#include "support/chat_client.hpp"
#include "support/process_stats.hpp"
#include "support/service_process.hpp"
#include "support/test_database.hpp"
#include "support/waiting.hpp"

using namespace chrysopedia::test;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::string chat_request(const std::string& query, const char* version = "HTTP/1.1",
                         const std::string& extra_headers = "") {
  const std::string body = chat_body(query);
  return "POST /api/v1/chat " + std::string(version) +
         "\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

std::vector<std::string> event_names(const std::vector<SseEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    if (out.empty() || out.back() != e.event) out.push_back(e.event);
  }
  return out;
}

class ClientFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.import(page_line("sidechain-bass", "Sidechain compression for bass", "kara",
                         "Kara Lindqvist", "mixing", "Duck the bass under the kick."));
    // Answers echo the question, so each answer can be told from the others.
    fake_.set_handler([](const RecordedRequest& req) {
      const std::string q = json::parse(req.body)["messages"].back()["content"];
      return openai_stream({"answer to ", q});
    });
  }

  std::map<std::string, std::string> env(std::map<std::string, std::string> extra = {}) {
    extra.emplace("DATABASE_URL", db_.url());
    extra.emplace("LLM_API_URL", fake_.url());
    return extra;
  }

  TestDatabase db_;
  FakeLlmServer fake_;
};

TEST_F(ClientFaults, TricklingClientsAreCutOffAtTheRequestTimeoutAndOthersAreServed) {
  // The timeout alone, from one address: the per-client cap is its own test.
  ServiceProcess service(
      env({{"HTTP_REQUEST_TIMEOUT_SECONDS", "1"}, {"HTTP_MAX_IDLE_CONNECTIONS_PER_CLIENT", "0"}}));
  const std::string request = chat_request("sidechain");
  std::vector<std::unique_ptr<RawClient>> tricklers;
  for (int i = 0; i < 100; ++i) tricklers.push_back(std::make_unique<RawClient>(service.port()));
  const auto start = Clock::now();
  std::atomic<bool> stop{false};
  // One byte per connection every 100 ms: the whole request would take 15 s.
  std::thread trickle([&] {
    for (std::size_t i = 0; i < request.size() && !stop; ++i) {
      for (auto& c : tricklers) c->send(std::string_view(&request[i], 1));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  const auto chat = post_chat(service.port(), chat_body("sidechain"));
  EXPECT_EQ(chat.text, "answer to sidechain");
  EXPECT_LT(seconds_since(start), 1.0) << "served while the tricklers wait";

  int timed_out = 0;
  for (auto& c : tricklers) {
    try {
      if (c->read_response(std::chrono::seconds(3)).status == 408) ++timed_out;
    } catch (const std::exception&) {
      // closed without an answer: also cut off
      ++timed_out;
    }
  }
  EXPECT_LT(seconds_since(start), 2.5);
  stop = true;
  trickle.join();
  EXPECT_EQ(timed_out, 100);
  EXPECT_EQ(post_chat(service.port(), chat_body("after")).text, "answer to after");
}

TEST_F(ClientFaults, TenThousandAbandonedConnectionsAreReclaimedAndChatsGoOn) {
  constexpr int kConnections = 10000;
  // The test and the service (which inherits the limit) each hold them all.
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < kConnections + 500) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, kConnections + 500);
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
  }
  if (limit.rlim_cur < kConnections + 500) GTEST_SKIP() << "RLIMIT_NOFILE is too low";

  ServiceProcess service(env({{"HTTP_IDLE_TIMEOUT_SECONDS", "1"},
                              {"HTTP_REQUEST_TIMEOUT_SECONDS", "1"},
                              {"HTTP_MAX_IDLE_CONNECTIONS_PER_CLIENT", "0"}}));
  const pid_t pid = service.process().pid();
  ASSERT_EQ(post_chat(service.port(), chat_body("warm")).text, "answer to warm");
  const int idle_fds = open_fds(pid);
  const long idle_kib = resident_kib(pid);

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(service.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::string partial = "POST /api/v1/chat HTTP/1.1\r\nHost: x\r\n";
  // Returns the service's resident set once it has let go of them all.
  auto flood = [&](int round) -> long {
    std::vector<int> fds;
    fds.reserve(kConnections);
    for (int i = 0; i < kConnections; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      EXPECT_GE(fd, 0) << i;
      if (fd < 0) break;
      fds.push_back(fd);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        // Once seen on a CI machine, never here: say what became of it.
        ADD_FAILURE() << "connect " << i << ": " << std::strerror(errno) << "; "
                      << service.post_mortem();
        break;
      }
      // Half say nothing, half start a request and never finish it.
      if (i % 2) ::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL);
      // Each 408 is a log line: keep the service's stderr pipe from filling.
      if (i % 500 == 0) service.process().output();
    }
    const int peak_fds = open_fds(pid);
    const std::string during = "during " + std::to_string(round);
    EXPECT_EQ(post_chat(service.port(), chat_body(during)).text, "answer to " + during);
    EXPECT_TRUE(healthy(service.port()));

    // The service lets go of them by itself; the test never closes its side.
    EXPECT_TRUE(eventually(
        [&] {
          service.process().output();
          return open_fds(pid) <= idle_fds + 5;
        },
        std::chrono::seconds(10)))
        << "fds: idle " << idle_fds << ", peak " << peak_fds << ", now " << open_fds(pid);
    for (int fd : fds) ::close(fd);
    // Freed memory goes back to the system at the workers' next check
    // (every 2 s) after the connections have gone.
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    const long kib = resident_kib(pid);
    RecordProperty("peak_fds_" + std::to_string(round), peak_fds);
    RecordProperty("rss_kib_after_" + std::to_string(round), static_cast<int>(kib));
    return kib;
  };

  const long after_first = flood(1);
  const long after_second = flood(2);
  const long peak = peak_resident_kib(pid);
  RecordProperty("idle_rss_kib", static_cast<int>(idle_kib));
  RecordProperty("peak_rss_kib", static_cast<int>(peak));
  const auto memory = "idle " + std::to_string(idle_kib) + " KiB, peak " + std::to_string(peak) +
                      " KiB, after the floods " + std::to_string(after_first) + " and " +
                      std::to_string(after_second) + " KiB";
  std::printf("%s\n", memory.c_str());
#if defined(__SANITIZE_ADDRESS__)
  // ASan's allocator keeps freed memory in quarantine and never trims it:
  // the bounds below hold for the release build, which CI also runs.
  std::printf("memory bounds not checked under AddressSanitizer\n");
#else
  EXPECT_LT(after_second, after_first + 16 * 1024) << "nothing kept per connection: " << memory;
  EXPECT_LT(after_second, idle_kib + 64 * 1024) << memory;
#endif
  EXPECT_EQ(post_chat(service.port(), chat_body("after")).text, "answer to after");
}

TEST_F(ClientFaults, TwoPipelinedChatsGetTwoAnswersInOrder) {
  ServiceProcess service(env());
  RawClient c(service.port());
  c.send(chat_request("first") + make_request("GET", "/healthz") + chat_request("second"));
  const auto one = c.read_response();
  const auto health = c.read_response();
  const auto two = c.read_response();
  EXPECT_EQ(one.header("content-type"), "text/event-stream");
  EXPECT_EQ(event_names(parse_sse(one.body)),
            (std::vector<std::string>{"sources", "token", "done"}));
  EXPECT_NE(one.body.find("data: first"), std::string::npos);
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, R"({"status":"ok"})");
  EXPECT_EQ(event_names(parse_sse(two.body)),
            (std::vector<std::string>{"sources", "token", "done"}));
  EXPECT_NE(two.body.find("data: second"), std::string::npos);
}

TEST_F(ClientFaults, AnHttp10ClientGetsTheStreamUnchunkedAndTheConnectionClosed) {
  ServiceProcess service(env());
  {
    RawClient c(service.port());
    c.send("GET /healthz HTTP/1.0\r\n\r\n");
    const auto r = c.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"status":"ok"})");
    EXPECT_TRUE(c.wait_closed(std::chrono::seconds(2))) << "no keep-alive unless asked";
  }
  {
    RawClient c(service.port());
    c.send(chat_request("old client", "HTTP/1.0"));
    const std::string raw = c.read_until_closed(std::chrono::seconds(10));
    const auto head_end = raw.find("\r\n\r\n");
    ASSERT_NE(head_end, std::string::npos) << raw;
    std::string head = raw.substr(0, head_end);
    for (auto& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_EQ(head.rfind("http/1.1 200 ok\r\n", 0), 0u) << head;
    EXPECT_NE(head.find("content-type: text/event-stream"), std::string::npos) << head;
    EXPECT_EQ(head.find("transfer-encoding"), std::string::npos)
        << "an HTTP/1.0 client cannot take chunked encoding";
    const auto events = parse_sse(raw.substr(head_end + 4));
    EXPECT_EQ(event_names(events), (std::vector<std::string>{"sources", "token", "done"}));
    std::string text;
    for (const auto& e : events) {
      if (e.event == "token") text += e.data;
    }
    EXPECT_EQ(text, "answer to old client");
  }
  {
    // Keep-alive asked for: a sized answer keeps the connection, a stream
    // (whose end is the close) does not.
    RawClient c(service.port());
    c.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 200);
    c.send(chat_request("again", "HTTP/1.0", "Connection: keep-alive\r\n"));
    std::string raw = c.read_until_closed(std::chrono::seconds(10));
    for (auto& ch : raw) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_EQ(raw.find("transfer-encoding"), std::string::npos);
    EXPECT_NE(raw.find("event: done"), std::string::npos) << raw;
  }
  EXPECT_TRUE(healthy(service.port()));
}

TEST_F(ClientFaults, HugeHeadersAre431AndTheServiceStaysUp) {
  ServiceProcess service(env());
  RawClient c(service.port());
  c.send(chat_request("big", "HTTP/1.1", "X-Big: " + std::string(20000, 'a') + "\r\n"));
  const auto r = c.read_response();
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "headers_too_large");
  EXPECT_TRUE(c.wait_closed(std::chrono::seconds(3)));
  EXPECT_EQ(post_chat(service.port(), chat_body("after")).text, "answer to after");
}

}  // namespace
