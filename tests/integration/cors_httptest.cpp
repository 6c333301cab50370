// CORS over real sockets: preflights, and the headers on streams and
// errors, for allowed and refused origins; and the per-request hook the
// metrics count with.
#include <gtest/gtest.h>

#include <mutex>

#include "chrysopedia/http/json_error.hpp"
#include "support/raw_client.hpp"
#include "support/test_server.hpp"

using namespace chrysopedia;
using namespace chrysopedia::test;
using boost::asio::awaitable;

namespace {

const std::string kAllowed = "https://app.example.com";

std::shared_ptr<http::Router> cors_routes() {
  auto r = std::make_shared<http::Router>();
  r->add("POST", "/api/v1/chat", [](http::Exchange& ex) -> awaitable<void> {
    if (ex.request().body != "ok") {
      auto error = http::json_error(400, "invalid_json", "The body is not JSON.");
      co_await ex.respond(std::move(error));
      co_return;
    }
    auto* stream = co_await ex.open_event_stream();
    co_await stream->send("done", "{}");
  });
  r->add("GET", "/api/v1/conversations/{id}", [](http::Exchange& ex) -> awaitable<void> {
    http::Response ok{200, "application/json", "{}", {}};
    co_await ex.respond(std::move(ok));
  });
  r->add("DELETE", "/api/v1/conversations/{id}", [](http::Exchange& ex) -> awaitable<void> {
    http::Response none{204, "application/json", "", {}};
    co_await ex.respond(std::move(none));
  });
  return r;
}

http::ServerOptions with_origins(std::vector<std::string> origins) {
  auto o = loopback_options();
  o.cors_allowed_origins = std::move(origins);
  return o;
}

std::string preflight(const std::string& path, const std::string& origin,
                      const std::string& asked_headers = "content-type") {
  return make_request("OPTIONS", path, {},
                      "Origin: " + origin +
                          "\r\nAccess-Control-Request-Method: POST\r\n"
                          "Access-Control-Request-Headers: " +
                          asked_headers + "\r\n");
}

std::string chat(const std::string& body, const std::string& origin) {
  return make_request("POST", "/api/v1/chat", body,
                      "Content-Type: application/json\r\nOrigin: " + origin + "\r\n");
}

void expect_no_cors(const RawClient::Response& r) {
  for (const auto& [name, value] : r.headers) {
    EXPECT_EQ(name.rfind("access-control-", 0), std::string::npos) << name << ": " << value;
  }
}

}  // namespace

TEST(Cors, PreflightFromAnAllowedOriginIsAnswered) {
  TestServer server(cors_routes(), with_origins({"https://other.example.org", kAllowed}));
  RawClient c(server.port());
  c.send(preflight("/api/v1/chat", kAllowed, "Content-Type, X-Request-Id, X-Trace-Token"));
  const auto r = c.read_response();
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("access-control-allow-origin"), kAllowed);
  EXPECT_EQ(r.header("vary"), "Origin");
  EXPECT_EQ(r.header("access-control-allow-methods"), "POST");
  EXPECT_EQ(r.header("access-control-allow-headers"),
            "Content-Type, Authorization, X-Request-Id, Last-Event-ID, X-Trace-Token");
  EXPECT_EQ(r.header("access-control-max-age"), "600");
  EXPECT_TRUE(r.body.empty());

  // Any route: the conversations path lists both of its methods.
  c.send(preflight("/api/v1/conversations/abc", kAllowed));
  const auto conv = c.read_response();
  EXPECT_EQ(conv.status, 204);
  EXPECT_EQ(conv.header("access-control-allow-methods"), "GET, DELETE");
}

TEST(Cors, OddRequestedHeadersAreNotGranted) {
  TestServer server(cors_routes(), with_origins({kAllowed}));
  RawClient c(server.port());
  c.send(preflight("/api/v1/chat", kAllowed, "x-ok, bad header, x\"y, " + std::string(100, 'a')));
  EXPECT_EQ(c.read_response().header("access-control-allow-headers"),
            "Content-Type, Authorization, X-Request-Id, Last-Event-ID, x-ok");
}

TEST(Cors, StreamAndErrorsCarryTheHeadersForAnAllowedOrigin) {
  TestServer server(cors_routes(), with_origins({kAllowed}));
  RawClient c(server.port());
  c.send(chat("ok", kAllowed));
  const auto stream = c.read_response();
  EXPECT_EQ(stream.status, 200);
  EXPECT_EQ(stream.header("content-type"), "text/event-stream");
  EXPECT_EQ(stream.header("access-control-allow-origin"), kAllowed);
  EXPECT_EQ(stream.header("vary"), "Origin");
  EXPECT_EQ(stream.header("access-control-expose-headers"), "X-Request-Id, Chrysopedia-Stream-Id");
  EXPECT_NE(stream.body.find("event: done"), std::string::npos);

  c.send(chat("not json", kAllowed));
  const auto bad = c.read_response();
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.header("access-control-allow-origin"), kAllowed);
  EXPECT_EQ(bad.header("access-control-expose-headers"), "X-Request-Id, Chrysopedia-Stream-Id");

  c.send(make_request("GET", "/nowhere", {}, "Origin: " + kAllowed + "\r\n"));
  const auto missing = c.read_response();
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("access-control-allow-origin"), kAllowed);

  // Refused before routing (over the body limit): the page still sees why.
  RawClient big(server.port());
  big.send(chat(std::string(70 * 1024, 'x'), kAllowed));
  const auto too_large = big.read_response();
  EXPECT_EQ(too_large.status, 413);
  EXPECT_EQ(too_large.header("access-control-allow-origin"), kAllowed);
}

TEST(Cors, ADisallowedOriginGetsNoCorsHeaders) {
  TestServer server(cors_routes(), with_origins({kAllowed}));
  RawClient c(server.port());
  for (const std::string origin : {"https://evil.example.net", "https://app.example.com.evil.net",
                                   "http://app.example.com", "null"}) {
    c.send(preflight("/api/v1/chat", origin));
    expect_no_cors(c.read_response());
    c.send(chat("ok", origin));
    const auto stream = c.read_response();
    EXPECT_EQ(stream.status, 200);
    expect_no_cors(stream);
    c.send(chat("bad", origin));
    expect_no_cors(c.read_response());
  }
}

TEST(Cors, StarAllowsAnyOriginByEchoingIt) {
  TestServer server(cors_routes(), with_origins({"*"}));
  RawClient c(server.port());
  c.send(chat("ok", "http://localhost:5173"));
  const auto r = c.read_response();
  EXPECT_EQ(r.header("access-control-allow-origin"), "http://localhost:5173");
  EXPECT_EQ(r.header("vary"), "Origin");
}

TEST(Cors, OffByDefault) {
  TestServer server(cors_routes());
  RawClient c(server.port());
  c.send(preflight("/api/v1/chat", kAllowed));
  const auto r = c.read_response();
  EXPECT_EQ(r.status, 405) << "no CORS: OPTIONS is just a method the route lacks";
  expect_no_cors(r);
  c.send(chat("ok", kAllowed));
  expect_no_cors(c.read_response());
}

TEST(RequestHook, ReportsTheRoutePatternAndStatusOfEveryRequest) {
  std::mutex mutex;
  std::vector<std::pair<std::string, int>> seen;
  auto options = loopback_options();
  options.on_request = [&](std::string_view route, int status) {
    std::lock_guard lock(mutex);
    seen.emplace_back(std::string(route), status);
  };
  {
    TestServer server(cors_routes(), options);
    RawClient c(server.port());
    c.send(make_request("GET", "/api/v1/conversations/some-id-123"));
    c.read_response();
    c.send(make_request("DELETE", "/api/v1/conversations/x"));
    c.read_response();
    c.send(make_request("GET", "/not/here"));
    c.read_response();
    c.send(chat("bad", "x"));
    c.read_response();
    RawClient big(server.port());
    big.send(chat(std::string(70 * 1024, 'x'), "x"));
    big.read_response();
  }
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, int>>{
                      {"/api/v1/conversations/{id}", 200},
                      {"/api/v1/conversations/{id}", 204},
                      {"", 404},
                      {"/api/v1/chat", 400},
                      {"/api/v1/chat", 413},
                  }));
}
