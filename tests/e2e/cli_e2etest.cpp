// The migrate, import and search commands of the binary, against real
// Postgres, as an operator would run them.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "support/child_process.hpp"
#include "support/scratch_files.hpp"
#include "support/test_database.hpp"

using namespace chrysopedia::test;
using namespace std::chrono_literals;

namespace {

const std::string kBinary = CHRYSOPEDIA_BINARY;

std::pair<int, std::string> run(const std::vector<std::string>& args, const std::string& url) {
  std::vector<std::string> argv = {kBinary};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess p(argv, {{"DATABASE_URL", url}});
  const auto code = p.wait_exit(60s);
  return {code.value_or(-1), p.output()};
}

}  // namespace

TEST(Cli, MigrateIsIdempotent) {
  TestDatabase db;  // already migrated
  const auto [code, out] = run({"migrate"}, db.url());
  EXPECT_EQ(code, 0);
  EXPECT_NE(out.find("schema is up to date"), std::string::npos) << out;
}

TEST(Cli, ImportThenSearch) {
  TestDatabase db;
  TempJsonl file(page_line(
      "sidechain-bass", "Sidechain compression for bass", "kara", "Kara Lindqvist", "mixing",
      "Duck the bass under the kick.",
      R"([{"anchor": "setup", "heading": "Setup", "content": "Key it from the kick."}])"));
  const auto [code, out] = run({"import", file.path}, db.url());
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("imported 1 page(s) with 1 section(s) by 1 creator(s)"), std::string::npos)
      << out;

  const auto [scode, sout] = run({"search", "sidechain the bass", "--creator", "KARA"}, db.url());
  EXPECT_EQ(scode, 0) << sout;
  EXPECT_EQ(sout.rfind("cascade_tier: creator", 0), 0u) << sout;
  EXPECT_NE(sout.find("[1] Sidechain compression for bass by Kara Lindqvist"), std::string::npos)
      << sout;
  EXPECT_NE(sout.find("sidechain-bass#setup"), std::string::npos) << sout;

  const auto [ncode, nout] = run({"search", "xylophone"}, db.url());
  EXPECT_EQ(ncode, 0);
  EXPECT_EQ(nout.rfind("cascade_tier: none", 0), 0u) << nout;
}

TEST(Cli, ABadFileListsEveryBadLineAndImportsNothing) {
  TestDatabase db;
  TempJsonl file(page_line("ok", "Fine", "c", "C", "mixing", "") + "{oops\n" +
                 R"({"slug": "x", "creator": {"slug": "c", "name": "C"}})"
                 "\n");
  const auto [code, out] = run({"import", file.path}, db.url());
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find(file.path + ":2: not valid JSON"), std::string::npos) << out;
  EXPECT_NE(out.find(file.path + ":3: title is missing"), std::string::npos) << out;
  EXPECT_NE(out.find("nothing imported: 2 bad line(s)"), std::string::npos) << out;
  EXPECT_EQ(db.scalar("SELECT count(*) FROM technique_pages"), "0");
}

TEST(Cli, AnUnreachableDatabaseIsReportedInWords) {
  const auto [code, out] = run({"search", "bass"}, "postgresql://app:secret@127.0.0.1:1/none");
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("cannot connect to the database at postgresql://app:***@127.0.0.1:1/none"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("secret"), std::string::npos);
}

TEST(Cli, AMissingFileIsReported) {
  const auto [code, out] = run({"import", "/nonexistent.jsonl"}, "postgresql://127.0.0.1:1/x");
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("cannot read /nonexistent.jsonl"), std::string::npos) << out;
}
