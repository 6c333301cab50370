// The chrysopedia-chat binary itself: configuration, logging, serving,
// and a clean exit on SIGTERM.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/raw_client.hpp"

using namespace chrysopedia::test;

namespace {

const std::string kBinary = CHRYSOPEDIA_BINARY;  // set for the test support library
// No database for these tests: an address nobody answers on, never a
// default that might reach somebody's real one.
const std::pair<const std::string, std::string> kNoDatabase{"DATABASE_URL",
                                                            "postgresql://127.0.0.1:1/none"};

std::uint16_t port_from(const std::string& json_line) {
  const auto msg = nlohmann::json::parse(json_line)["msg"].get<std::string>();
  const auto at = msg.find("port=");
  return at == std::string::npos ? 0 : static_cast<std::uint16_t>(std::stoi(msg.substr(at + 5)));
}

}  // namespace

TEST(Serve, ServesHealthAndExitsZeroOnSigterm) {
  ChildProcess p({kBinary, "serve"},
                 {{"HOST", "127.0.0.1"},
                  {"PORT", "0"},
                  {"WORKERS", "2"},
                  {"LOG_FORMAT", "json"},
                  {"LLM_API_KEY", "sk-very-secret"},
                  {"DATABASE_URL", "postgresql://app:pg-secret@127.0.0.1:1/x"}});
  const auto line = p.wait_for_line("\"listening", 10s);
  ASSERT_TRUE(line) << p.output();
  const auto port = port_from(*line);
  ASSERT_GT(port, 0);

  RawClient c(port);
  c.send(make_request("GET", "/healthz"));
  const auto r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(nlohmann::json::parse(r.body), nlohmann::json({{"status", "ok"}}));

  p.signal(SIGTERM);
  EXPECT_EQ(p.wait_exit(10s), 0);
  const std::string log = p.output();
  EXPECT_EQ(log.find("sk-very-secret"), std::string::npos) << log;
  EXPECT_EQ(log.find("pg-secret"), std::string::npos) << log;
  // Every line of the JSON log is a JSON object with an event name.
  std::size_t start = 0, lines = 0;
  while (start < log.size()) {
    const auto nl = log.find('\n', start);
    const auto text = log.substr(start, nl - start);
    start = nl == std::string::npos ? log.size() : nl + 1;
    if (text.empty()) continue;
    const auto j = nlohmann::json::parse(text);
    EXPECT_TRUE(j.contains("event") && j.contains("level") && j.contains("ts")) << text;
    ++lines;
  }
  EXPECT_GE(lines, 3u);
}

TEST(Serve, ABadSettingStopsStartUpWithOneLineNamingIt) {
  ChildProcess p({kBinary}, {{"PORT", "abc"}, kNoDatabase});
  EXPECT_EQ(p.wait_exit(10s), 2);
  EXPECT_EQ(p.output(), "invalid configuration: PORT=\"abc\" is not a port number (0-65535)\n");
}

TEST(Serve, ConfigFileSuppliesDefaults) {
  char path[] = "/tmp/chrysopedia-e2e-XXXXXX";
  const int fd = mkstemp(path);
  const std::string content = R"({"HOST": "127.0.0.1", "PORT": 0, "LOG_FORMAT": "json"})";
  ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  ::close(fd);
  ChildProcess p({kBinary, "--config", path},
                 {{"HOST", kUnset}, {"PORT", kUnset}, {"LOG_FORMAT", kUnset}, kNoDatabase});
  const auto line = p.wait_for_line("\"listening", 10s);
  ::unlink(path);
  ASSERT_TRUE(line) << p.output();
  EXPECT_NE(line->find("host=127.0.0.1"), std::string::npos);
  p.signal(SIGINT);
  EXPECT_EQ(p.wait_exit(10s), 0);
}

TEST(Serve, AnAddressInUseIsReportedAndExitsNonZero) {
  ChildProcess first({kBinary},
                     {{"HOST", "127.0.0.1"}, {"PORT", "0"}, {"LOG_FORMAT", "json"}, kNoDatabase});
  const auto line = first.wait_for_line("\"listening", 10s);
  ASSERT_TRUE(line) << first.output();
  const auto port = std::to_string(port_from(*line));
  ChildProcess second({kBinary},
                      {{"HOST", "127.0.0.1"}, {"PORT", port}, {"LOG_FORMAT", "json"}, kNoDatabase});
  EXPECT_EQ(second.wait_exit(10s), 1);
  EXPECT_NE(second.output().find("listen_failed"), std::string::npos) << second.output();
}

TEST(Serve, AnUnknownCommandShowsUsage) {
  ChildProcess bad({kBinary, "unknown-command"}, {});
  EXPECT_EQ(bad.wait_exit(10s), 2);
  EXPECT_NE(bad.output().find("unknown command"), std::string::npos);
  EXPECT_NE(bad.output().find("usage:"), std::string::npos);
}
