// Postgres goes away under a running service and comes back: chats get
// "Search failed" meanwhile, the process keeps serving, and search
// recovers by itself. Stops the shared test Postgres, so it runs alone.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/chat_client.hpp"
#include "support/service_process.hpp"
#include "support/test_database.hpp"

using namespace chrysopedia::test;

TEST(PostgresOutage, SearchFailsWhileItIsDownAndRecoversWhenItReturns) {
  const char* pg_ctl = std::getenv("CHRYSOPEDIA_TEST_PG_CTL");
  const char* pg_start = std::getenv("CHRYSOPEDIA_TEST_PG_START");
  ASSERT_TRUE(pg_ctl && pg_start) << "run the tests with scripts/test";
  TestDatabase db;
  db.import(page_line("sidechain-bass", "Sidechain compression for bass", "kara", "Kara", "mixing",
                      "Duck the bass under the kick."));
  ServiceProcess service({{"DATABASE_URL", db.url()}});
  ASSERT_TRUE(post_chat(service.port(), chat_body("sidechain")).find("done"));

  ASSERT_EQ(std::system((std::string(pg_ctl) + " -m fast -w stop > /dev/null").c_str()), 0);
  const auto down = post_chat(service.port(), chat_body("sidechain"));
  const bool restarted = std::system((std::string(pg_start) + " > /dev/null").c_str()) == 0;
  ASSERT_EQ(down.names(), (std::vector<std::string>{"error"}));
  EXPECT_EQ(down.find("error")->data, R"({"message":"Search failed"})");
  ASSERT_TRUE(restarted);

  RawClient health(service.port());
  health.send(make_request("GET", "/healthz"));
  EXPECT_EQ(health.read_response().status, 200) << "the process kept serving";

  bool recovered = false;
  for (int i = 0; i < 50 && !recovered; ++i) {
    recovered = post_chat(service.port(), chat_body("sidechain")).find("done") != nullptr;
    if (!recovered) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(recovered) << service.process().output();
}
