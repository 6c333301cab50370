// The HTTP server over real loopback sockets: routing, limits, timeouts,
// keep-alive, errors, shutdown.
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <atomic>
#include <thread>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "chrysopedia/http/json_error.hpp"
#include "support/raw_client.hpp"
#include "support/test_server.hpp"
#include "support/waiting.hpp"

using namespace chrysopedia;
using namespace chrysopedia::test;
using boost::asio::awaitable;

namespace {

std::shared_ptr<http::Router> routes() {
  auto r = std::make_shared<http::Router>();
  r->add("GET", "/hello", [](http::Exchange& ex) -> awaitable<void> {
    http::Response res{200, "text/plain", "hello " + ex.request().request_id, {}};
    co_await ex.respond(std::move(res));
  });
  r->add("POST", "/echo", [](http::Exchange& ex) -> awaitable<void> {
    http::Response res{200, "application/octet-stream", ex.request().body, {}};
    co_await ex.respond(std::move(res));
  });
  r->add("GET", "/items/{id}", [](http::Exchange& ex) -> awaitable<void> {
    http::Response res{200, "text/plain", ex.request().params.at("id"), {}};
    co_await ex.respond(std::move(res));
  });
  r->add("GET", "/boom", [](http::Exchange&) -> awaitable<void> {
    throw std::runtime_error("handler bug");
    co_return;
  });
  r->add("GET", "/silent", [](http::Exchange&) -> awaitable<void> { co_return; });
  r->add("GET", "/slow", [](http::Exchange& ex) -> awaitable<void> {
    co_await async_sleep(std::chrono::milliseconds(400));
    http::Response res{200, "text/plain", "slow done", {}};
    co_await ex.respond(std::move(res));
  });
  return r;
}

nlohmann::json error_of(const RawClient::Response& r) {
  EXPECT_EQ(r.header("content-type"), "application/json");
  return nlohmann::json::parse(r.body)["error"];
}

}  // namespace

TEST(HttpServer, AnswersARoute) {
  TestServer server(routes());
  RawClient c(server.port());
  c.send(make_request("GET", "/hello"));
  const auto r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello " + r.header("x-request-id"));
  EXPECT_EQ(r.header("x-request-id").size(), 16u);
}

TEST(HttpServer, AdoptsASafeClientRequestId) {
  TestServer server(routes());
  RawClient c(server.port());
  c.send(make_request("GET", "/hello", {}, "X-Request-Id: trace-42\r\n"));
  EXPECT_EQ(c.read_response().header("x-request-id"), "trace-42");
  c.send(make_request("GET", "/hello", {}, "X-Request-Id: bad id\"\r\n"));
  EXPECT_NE(c.read_response().header("x-request-id"), "bad id\"");
}

TEST(HttpServer, PathParametersAreDecoded) {
  TestServer server(routes());
  RawClient c(server.port());
  c.send(make_request("GET", "/items/a%2Fb?x=1"));
  EXPECT_EQ(c.read_response().body, "a/b");
}

TEST(HttpServer, UnknownPathIs404WithJsonError) {
  TestServer server(routes());
  RawClient c(server.port());
  c.send(make_request("GET", "/nowhere"));
  const auto r = c.read_response();
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_of(r)["code"], "not_found");
  EXPECT_NE(error_of(r)["message"].get<std::string>().find("/nowhere"), std::string::npos);
}

TEST(HttpServer, WrongMethodIs405WithAllow) {
  TestServer server(routes());
  RawClient c(server.port());
  c.send(make_request("DELETE", "/echo"));
  const auto r = c.read_response();
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "POST");
  EXPECT_EQ(error_of(r)["code"], "method_not_allowed");
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  TestServer server(routes());
  RawClient c(server.port());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(c.send(make_request("POST", "/echo", "body " + std::to_string(i))));
    const auto r = c.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "body " + std::to_string(i));
  }
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  TestServer server(routes());
  RawClient c(server.port());
  c.send(make_request("POST", "/echo", "one") + make_request("POST", "/echo", "two") +
         make_request("GET", "/hello"));
  EXPECT_EQ(c.read_response().body, "one");
  EXPECT_EQ(c.read_response().body, "two");
  EXPECT_EQ(c.read_response().status, 200);
}

TEST(HttpServer, BodyAtTheLimitIsAcceptedAndOneByteMoreIs413) {
  TestServer server(routes());
  {
    RawClient c(server.port());
    const std::string body(64 * 1024, 'x');
    c.send(make_request("POST", "/echo", body));
    const auto r = c.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.size(), body.size());
  }
  {
    RawClient c(server.port());
    c.send(make_request("POST", "/echo", std::string(64 * 1024 + 1, 'x')));
    const auto r = c.read_response();
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(error_of(r)["code"], "payload_too_large");
    EXPECT_EQ(r.header("connection"), "close");
    EXPECT_TRUE(c.wait_closed(3s));
  }
}

TEST(HttpServer, ExpectContinueIsHonouredAndOversizeIsRefusedBeforeTheBody) {
  TestServer server(routes());
  {
    RawClient c(server.port());
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    EXPECT_EQ(c.read_head().status, 100);
    c.send("hello");
    const auto r = c.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "hello");
  }
  RawClient c(server.port());
  c.send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n"
      "Expect: 100-continue\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 413);
}

TEST(HttpServer, HugeHeadersAre431) {
  TestServer server(routes());
  RawClient c(server.port());
  c.send(make_request("GET", "/hello", {}, "X-Big: " + std::string(20000, 'a') + "\r\n"));
  const auto r = c.read_response();
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(error_of(r)["code"], "headers_too_large");
}

TEST(HttpServer, GarbageIs400AndTheServerKeepsServing) {
  TestServer server(routes());
  {
    RawClient c(server.port());
    c.send("THIS IS NOT HTTP\r\n\r\n");
    const auto r = c.read_response();
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(error_of(r)["code"], "bad_request");
  }
  RawClient c(server.port());
  c.send(make_request("GET", "/hello"));
  EXPECT_EQ(c.read_response().status, 200);
}

TEST(HttpServer, ATricklingClientIsCutOffAtTheRequestTimeout) {
  auto options = loopback_options();
  options.request_timeout = std::chrono::milliseconds(500);
  TestServer server(routes(), options);
  RawClient c(server.port());
  const std::string request = make_request("GET", "/hello");
  const auto start = std::chrono::steady_clock::now();
  // One byte every 100 ms would take several seconds for the whole request.
  bool closed = false;
  for (char ch : request) {
    if (!c.send(std::string(1, ch))) {
      closed = true;
      break;
    }
    std::this_thread::sleep_for(100ms);
    if (std::chrono::steady_clock::now() - start > 3s) break;
  }
  if (!closed) {
    const auto r = c.read_response(3s);
    EXPECT_EQ(r.status, 408);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(HttpServer, AnIdleConnectionIsClosedAfterTheIdleTimeout) {
  auto options = loopback_options();
  options.idle_timeout = std::chrono::milliseconds(300);
  TestServer server(routes(), options);
  RawClient c(server.port());
  EXPECT_TRUE(c.wait_closed(3s));
}

TEST(HttpServer, AHandlerThatThrowsGets500AndTheConnectionSurvives) {
  TestServer server(routes());
  RawClient c(server.port());
  c.send(make_request("GET", "/boom"));
  const auto r = c.read_response();
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(error_of(r)["code"], "internal_error");
  EXPECT_NE(error_of(r)["message"].get<std::string>().find(r.header("x-request-id")),
            std::string::npos);
  EXPECT_EQ(error_of(r)["message"].get<std::string>().find("handler bug"), std::string::npos)
      << "internal details stay in the log";
  RawClient again(server.port());
  again.send(make_request("GET", "/hello"));
  EXPECT_EQ(again.read_response().status, 200);
}

TEST(HttpServer, AHandlerThatAnswersNothingGets500) {
  TestServer server(routes());
  RawClient c(server.port());
  c.send(make_request("GET", "/silent"));
  EXPECT_EQ(c.read_response().status, 500);
}

TEST(HttpServer, ManyConnectionsAtOnce) {
  auto options = loopback_options();
  options.workers = 2;
  TestServer server(routes(), options);
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 200; ++i) clients.push_back(std::make_unique<RawClient>(server.port()));
  for (int i = 0; i < 200; ++i) {
    clients[i]->send(make_request("POST", "/echo", std::to_string(i)));
  }
  for (int i = 0; i < 200; ++i) EXPECT_EQ(clients[i]->read_response().body, std::to_string(i));
}

TEST(HttpServer, StopLetsOpenRequestsFinishAndRefusesNewOnes) {
  auto server = std::make_unique<http::Server>(loopback_options(), routes());
  server->start();
  const auto port = server->port();
  RawClient idle(port);
  RawClient busy(port);
  busy.send(make_request("GET", "/slow"));
  std::this_thread::sleep_for(100ms);
  server->stop();
  const auto r = busy.read_response(3s);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "slow done");
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(idle.wait_closed(3s)) << "an idle keep-alive connection is closed at once";
  server->wait();
  EXPECT_THROW(RawClient late(port), std::runtime_error);
}
