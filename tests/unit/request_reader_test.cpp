// The request path's parser with our limits, fed as a connection would
// feed it: the holes issue 15 found (unbounded chunk extensions and
// trailers, smuggling through Transfer-Encoding, obs-fold, Host).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "http/request_reader.hpp"

using chrysopedia::http::RequestLimits;
using chrysopedia::http::RequestReader;
using Step = RequestReader::Step;

namespace {

struct Fed {
  Step step = Step::need_more;
  std::size_t peak_buffer = 0;  // the most the read buffer ever held
  std::size_t fed = 0;          // bytes taken before the reader stopped
  int status = 0;
  std::string message;
};

// Feeds `bytes` the way the session does: as much as the buffer has room
// for, `piece` bytes at a time, until the reader stops asking for more.
Fed feed(RequestReader& reader, boost::beast::flat_buffer& buffer, const std::string& bytes,
         std::size_t piece = 4096) {
  Fed out;
  std::size_t at = 0;
  for (;;) {
    out.step = reader.parse(buffer);
    out.peak_buffer = std::max(out.peak_buffer, buffer.capacity());
    if (out.step == Step::wants_continue) continue;
    if (out.step != Step::need_more || at == bytes.size()) break;
    const auto n = std::min({piece, reader.room(buffer), bytes.size() - at});
    if (n == 0) break;
    auto space = buffer.prepare(n);
    std::copy_n(bytes.data() + at, n, static_cast<char*>(space.data()));
    buffer.commit(n);
    at += n;
  }
  out.fed = at;
  if (out.step == Step::rejected) {
    out.status = reader.rejection().status;
    out.message = reader.rejection().message;
  }
  return out;
}

Fed feed(const std::string& bytes, std::size_t piece = 4096, RequestLimits limits = {}) {
  RequestReader reader(limits);
  boost::beast::flat_buffer buffer;
  return feed(reader, buffer, bytes, piece);
}

std::string chunked_post(const std::string& chunks, const std::string& extra = "") {
  return "POST /api/v1/chat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n" + extra +
         "\r\n" + chunks;
}

}  // namespace

TEST(RequestReader, ReadsARequestAndLeavesThePipelinedNextOne) {
  RequestReader first({});
  boost::beast::flat_buffer buffer;
  const std::string two =
      "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
      "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
  auto fed = feed(first, buffer, two, 1);  // a byte at a time
  ASSERT_EQ(fed.step, Step::done);
  const auto a = first.release();
  EXPECT_EQ(a.target(), "/a");
  EXPECT_EQ(a.body(), "hello");
  RequestReader second({});
  fed = feed(second, buffer, two.substr(fed.fed), 1);
  ASSERT_EQ(fed.step, Step::done);
  EXPECT_EQ(second.release().target(), "/b");
}

TEST(RequestReader, ChunkedBodiesAreJoined) {
  RequestReader reader({});
  boost::beast::flat_buffer buffer;
  const auto fed = feed(reader, buffer, chunked_post("3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), 3);
  ASSERT_EQ(fed.step, Step::done);
  EXPECT_EQ(reader.release().body(), "abcde");
}

// Issue 15: one 384 MiB chunk extension grew the process by 557 MB.
TEST(RequestReader, AHugeChunkExtensionIsRefusedWithinTheBufferBound) {
  const std::string ext(8 * 1024 * 1024, 'a');
  const auto fed = feed(chunked_post("1;" + ext + "\r\nx\r\n0\r\n\r\n"));
  EXPECT_EQ(fed.step, Step::rejected);
  EXPECT_EQ(fed.status, 400);
  EXPECT_LE(fed.peak_buffer, RequestReader::buffer_limit({}) + 4096);
  EXPECT_LT(fed.fed, 64u * 1024) << "stopped reading long before the end";
}

TEST(RequestReader, ManySmallChunkExtensionsAddUp) {
  std::string chunks;
  for (int i = 0; i < 2000; ++i) chunks += "1;name=" + std::string(20, 'v') + "\r\nx\r\n";
  const auto fed = feed(chunked_post(chunks + "0\r\n\r\n"));
  ASSERT_EQ(fed.step, Step::rejected);
  EXPECT_EQ(fed.status, 400);
  EXPECT_NE(fed.message.find("chunk extensions"), std::string::npos) << fed.message;
}

// Issue 15: 64 MiB of trailer fields were read into memory whole.
TEST(RequestReader, AHugeTrailerIsRefusedWithinTheBufferBound) {
  std::string trailer;
  while (trailer.size() < 4 * 1024 * 1024) trailer += "X-Pad: " + std::string(100, 'p') + "\r\n";
  const auto fed = feed(chunked_post("1\r\nx\r\n0\r\n" + trailer + "\r\n"));
  EXPECT_EQ(fed.step, Step::rejected);
  EXPECT_EQ(fed.status, 400);
  EXPECT_LE(fed.peak_buffer, RequestReader::buffer_limit({}) + 4096);
}

TEST(RequestReader, TrailerFieldsNeverJoinTheHeader) {
  RequestReader reader({});
  boost::beast::flat_buffer buffer;
  const auto fed = feed(reader, buffer,
                        chunked_post("1\r\nx\r\n0\r\nHost: evil\r\nX-API-Key: k\r\n"
                                     "X-Request-Id: forged\r\n\r\n"));
  ASSERT_EQ(fed.step, Step::done);
  const auto req = reader.release();
  EXPECT_EQ(req.count(boost::beast::http::field::host), 1u);
  EXPECT_EQ(req["Host"], "x");
  EXPECT_EQ(req.count("X-API-Key"), 0u);
  EXPECT_EQ(req.count("X-Request-Id"), 0u);
  EXPECT_EQ(req.body(), "x");
}

// Issue 15: a final coding other than chunked was read as no body, and the
// body then answered as the next request (a smuggling primitive).
TEST(RequestReader, ATransferEncodingNotEndingInChunkedIsRefused) {
  for (const char* te : {"gzip", "xchunked", "chunked, identity", "chunked;q=1", "identity"}) {
    const auto fed =
        feed("POST /api/v1/chat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + std::string(te) +
             "\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(fed.step, Step::rejected) << te;
    EXPECT_EQ(fed.status, 400) << te;
  }
  EXPECT_EQ(feed(chunked_post("0\r\n\r\n")).step, Step::done);  // plain chunked is fine
  const auto coded =
      feed("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(coded.step, Step::rejected);
  EXPECT_EQ(coded.status, 501);
}

TEST(RequestReader, TransferEncodingOnHttp10IsRefused) {
  const auto fed = feed("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(fed.step, Step::rejected);
  EXPECT_EQ(fed.status, 400);
}

TEST(RequestReader, ObsFoldIsRefusedEvenSplitAcrossReads) {
  for (std::size_t piece : {1u, 2u, 7u, 4096u}) {
    const auto fed = feed("GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n", piece);
    EXPECT_EQ(fed.step, Step::rejected) << piece;
    EXPECT_NE(fed.message.find("obs-fold"), std::string::npos) << fed.message;
  }
  EXPECT_EQ(feed("GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n\ttwo\r\n\r\n").step, Step::rejected);
  // A body may hold anything.
  EXPECT_EQ(feed("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n\r\n a").step, Step::done);
}

TEST(RequestReader, Http11NeedsExactlyOneHost) {
  EXPECT_EQ(feed("GET / HTTP/1.1\r\n\r\n").status, 400);
  EXPECT_EQ(feed("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").status, 400);
  EXPECT_EQ(feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n").step, Step::done);
  EXPECT_EQ(feed("GET / HTTP/1.0\r\n\r\n").step, Step::done);
  EXPECT_EQ(feed("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n").status, 400);
}

TEST(RequestReader, LimitsGiveTheirOwnStatus) {
  RequestLimits small{1024, 100};
  EXPECT_EQ(feed("GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(5000, 'p') + "\r\n\r\n", 4096,
                 small)
                .status,
            431);
  EXPECT_EQ(feed("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n", 4096, small).status,
            413);
  EXPECT_EQ(feed(chunked_post("40\r\n" + std::string(64, 'a') + "\r\n40\r\n" +
                              std::string(64, 'a') + "\r\n0\r\n\r\n"),
                 4096, small)
                .status,
            413);
  EXPECT_EQ(
      feed("GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(5000, 'p') + "\r\n\r\n", 1, small)
          .status,
      431)
      << "a byte at a time too";
}

TEST(RequestReader, AskForTheBodyOnlyWhenTheClientWaits) {
  RequestReader reader({});
  boost::beast::flat_buffer buffer;
  const std::string head =
      "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
  auto space = buffer.prepare(head.size());
  std::copy(head.begin(), head.end(), static_cast<char*>(space.data()));
  buffer.commit(head.size());
  EXPECT_EQ(reader.parse(buffer), Step::wants_continue);
  EXPECT_EQ(reader.parse(buffer), Step::need_more);
  space = buffer.prepare(2);
  std::copy_n("ok", 2, static_cast<char*>(space.data()));
  buffer.commit(2);
  EXPECT_EQ(reader.parse(buffer), Step::done);
  EXPECT_EQ(reader.release().body(), "ok");
}

TEST(RequestReader, GarbageIsABadRequest) {
  for (const char* bytes :
       {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", "GET / HTTP/9.9\r\nHost: x\r\n\r\n",
        "GET\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"}) {
    const auto fed = feed(bytes);
    EXPECT_EQ(fed.step, Step::rejected) << bytes;
    EXPECT_EQ(fed.status, 400) << bytes;
  }
}

// Found by fuzz/http_request_fuzzer: Beast reads one Transfer-Encoding field
// of several, and its token list stops quietly at a malformed element.
TEST(RequestReader, OnlyOneTransferEncodingFieldSayingChunkedIsChunked) {
  for (const char* fields :
       {"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: $chunked\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked;q=1\r\n", "Transfer-Encoding: chunked junk\r\n",
        "Transfer-Encoding: chunked\x8b\r\n"}) {
    const auto fed = feed("POST / HTTP/1.1\r\nHost: x\r\n" + std::string(fields) + "\r\n0\r\n\r\n");
    EXPECT_EQ(fed.step, Step::rejected) << fields;
  }
  EXPECT_EQ(
      feed("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:  Chunked \r\n\r\n0\r\n\r\n").step,
      Step::done);
}

// Found by the fuzzer: given part of a header, Beast took its first lines,
// and the obs-fold scan then looked in the wrong place: a fold split
// across reads got through, and an indented body was refused as a fold.
TEST(RequestReader, EveryTwoReadSplitGivesTheSameAnswer) {
  const std::string folded =
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n";
  const std::string indented =
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n"
      "{\r\n  \"a\": 1\r\n}";
  for (std::size_t split = 1; split < folded.size(); ++split) {
    RequestReader reader({});
    boost::beast::flat_buffer buffer;
    auto fed = feed(reader, buffer, folded.substr(0, split), 4096);
    if (fed.step == Step::need_more) fed = feed(reader, buffer, folded.substr(split), 4096);
    EXPECT_EQ(fed.step, Step::rejected) << "split at " << split;
  }
  for (std::size_t split = 1; split < indented.size(); ++split) {
    RequestReader reader({});
    boost::beast::flat_buffer buffer;
    auto fed = feed(reader, buffer, indented.substr(0, split), 4096);
    if (fed.step == Step::need_more) fed = feed(reader, buffer, indented.substr(split), 4096);
    ASSERT_EQ(fed.step, Step::done) << "split at " << split << ": " << fed.message;
    EXPECT_EQ(reader.release().body(), "{\r\n  \"a\": 1\r\n}");
  }
}

// Found by the fuzzer: Beast held each read's part of the header to the
// limit, not the whole: a 256-byte limit let 336 bytes through.
TEST(RequestReader, TheHeaderLimitIsOnTheWholeHeader) {
  RequestLimits small{256, 64};
  std::string head = "GET / HTTP/1.1\r\nHost: x\r\n";
  while (head.size() < 330) head += "X-A: aaaaaaaaaa\r\n";
  head += "\r\n";
  for (std::size_t piece : {1u, 17u, 64u, 4096u}) {
    EXPECT_EQ(feed(head, piece, small).status, 431) << piece;
  }
  EXPECT_EQ(feed("GET / HTTP/1.1\nHost: x\n\n").status, 400) << "bare LF";
}

TEST(RequestReader, Http10GetsNoContinue) {
  RequestReader reader({});
  boost::beast::flat_buffer buffer;
  const std::string head = "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
  auto space = buffer.prepare(head.size());
  std::copy(head.begin(), head.end(), static_cast<char*>(space.data()));
  buffer.commit(head.size());
  EXPECT_EQ(reader.parse(buffer), Step::need_more);
}
