// chat-loadgen: C concurrent streaming clients against a chat endpoint, or
// straight against an OpenAI-compatible upstream, for a count or a duration.
// Parses the event stream as it arrives and reports time to `sources`, time
// to first token, the gap between tokens and the whole stream (p50, p90,
// p99, max), errors, requests/s and tokens/s.
//
//   chat-loadgen --url http://127.0.0.1:8000/api/v1/chat [--mode chat|openai] [--model M]
//                [--concurrency C] [--requests N | --seconds S]
//                [--query "..." | --queries-file FILE.jsonl] [--ramp-seconds R]
//                [--label TEXT] [--header] [--summary FILE]
//
// --mode openai posts a chat-completions body (--model, "bench" by default)
// and counts `data:` chunks with content as tokens: the upstream measured
// directly, or the service's own /v1/chat/completions with --model chrysopedia. --queries-file
// takes the "question" of each JSON line (e.g. data/retrieval-eval.jsonl) and cycles through them;
// a line with "turn1" and "turn2" (the follow-up files) is a follow-up, turn2 asked after turn1
// (--mode openai only). --ramp-seconds spreads the clients' starts over that long (steady state)
// instead of all at once (a burst). Output: one Markdown table row (with a header line when
// --header is given); --summary also writes the totals and percentiles as key=value lines for
// scripts.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "bench/percentile.hpp"

namespace bench = chrysopedia::bench;

namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

namespace {

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "8000";
  std::string path = "/api/v1/chat";
  std::string mode = "chat";
  std::string model = "bench";  // --mode openai: the request's model
  int concurrency = 1;
  long requests = 100;
  double seconds = 0;
  std::string query = "how do I sidechain a bass to the kick?";
  std::string label;
  bool header = false;
  std::string summary;
  double ramp_seconds = 0;
  std::vector<std::string> requests_text;  // one prepared HTTP request per query
};

struct Samples {
  std::vector<double> sources_ms, first_token_ms, gap_ms, total_ms;
  long tokens = 0, errors = 0, completed = 0;
};

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

/// Incremental chunked-transfer and SSE reader: feeds bytes, reports events.
class StreamReader {
 public:
  template <typename OnEvent>
  bool feed(std::string_view bytes, OnEvent&& on_event) {  // false when the stream ended
    raw_.append(bytes);
    for (;;) {
      if (chunk_left_ == 0) {
        const auto eol = raw_.find("\r\n", pos_);
        if (eol == std::string::npos) break;
        const std::size_t size = std::stoul(raw_.substr(pos_, eol - pos_), nullptr, 16);
        if (size == 0) return false;
        pos_ = eol + 2;
        chunk_left_ = size + 2;  // with its CR LF
      }
      const std::size_t take = std::min(chunk_left_, raw_.size() - pos_);
      if (take == 0) break;
      const std::size_t data = chunk_left_ > 2 ? std::min(take, chunk_left_ - 2) : 0;
      sse_.append(raw_, pos_, data);
      pos_ += take;
      chunk_left_ -= take;
      std::size_t end;
      while ((end = sse_.find("\n\n")) != std::string::npos) {
        on_event(std::string_view(sse_).substr(0, end));
        sse_.erase(0, end + 2);
      }
    }
    raw_.erase(0, pos_);
    pos_ = 0;
    return true;
  }

 private:
  std::string raw_, sse_;
  std::size_t pos_ = 0, chunk_left_ = 0;
};

net::awaitable<void> client(const Options& o, const tcp::resolver::results_type& endpoints,
                            int index, std::atomic<long>& budget, Clock::time_point stop_at,
                            Samples& s) {
  if (o.ramp_seconds > 0) {
    net::steady_timer wait(
        co_await net::this_coro::executor,
        std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(o.ramp_seconds * index / std::max(1, o.concurrency))));
    co_await wait.async_wait(use_tuple);
  }
  std::size_t next_query = static_cast<std::size_t>(index);
  tcp::socket socket(co_await net::this_coro::executor);
  bool connected = false;
  std::string buffer(16384, '\0');
  for (;;) {
    if (o.seconds > 0 ? Clock::now() >= stop_at : budget.fetch_sub(1) <= 0) co_return;
    if (!connected) {
      socket = tcp::socket(co_await net::this_coro::executor);
      auto [ec, ep] = co_await net::async_connect(socket, endpoints, use_tuple);
      if (ec) {
        ++s.errors;
        continue;
      }
      socket.set_option(tcp::no_delay(true));
      connected = true;
    }
    const std::string& request = o.requests_text[next_query++ % o.requests_text.size()];
    const auto start = Clock::now();
    if (auto [ec, n] = co_await net::async_write(socket, net::buffer(request), use_tuple); ec) {
      ++s.errors;
      connected = false;
      continue;
    }
    // Head, then the chunked body.
    std::string head;
    std::string rest;
    bool ok = true;
    while (head.empty()) {
      auto [ec, n] = co_await socket.async_read_some(net::buffer(buffer), use_tuple);
      if (ec) {
        ok = false;
        break;
      }
      rest.append(buffer.data(), n);
      if (const auto end = rest.find("\r\n\r\n"); end != std::string::npos) {
        head = rest.substr(0, end);
        rest.erase(0, end + 4);
      }
    }
    if (!ok || head.rfind("HTTP/1.1 200", 0) != 0) {
      ++s.errors;
      connected = false;
      socket.close();
      continue;
    }
    StreamReader reader;
    Clock::time_point last_token{};
    bool first = true, failed = false;
    long tokens = 0;
    // The event's name line, wherever it is in the block (an `id:` line
    // comes first when the stream is kept for resuming).
    const auto named = [](std::string_view ev, std::string_view line) {
      for (auto at = ev.find(line); at != std::string_view::npos; at = ev.find(line, at + 1)) {
        if (at == 0 || ev[at - 1] == '\n') return true;
      }
      return false;
    };
    auto on_event = [&](std::string_view ev) {
      const bool token = o.mode == "chat"
                             ? named(ev, "event: token")
                             : ev.find("\"content\":\"") != std::string_view::npos &&
                                   ev.find("\"content\":\"\"") == std::string_view::npos;
      if (o.mode == "chat" && named(ev, "event: sources")) s.sources_ms.push_back(ms_since(start));
      if (o.mode == "chat" && named(ev, "event: error")) failed = true;
      if (o.mode == "openai" && ev.rfind("data: {\"error\"", 0) == 0) failed = true;
      if (token) {
        const auto now = Clock::now();
        if (first) {
          s.first_token_ms.push_back(ms_since(start));
          first = false;
        } else {
          s.gap_ms.push_back(std::chrono::duration<double, std::milli>(now - last_token).count());
        }
        last_token = now;
        ++tokens;
      }
    };
    bool more = reader.feed(rest, on_event);
    while (more) {
      auto [ec, n] = co_await socket.async_read_some(net::buffer(buffer), use_tuple);
      if (ec) {
        failed = true;
        connected = false;
        break;
      }
      more = reader.feed(std::string_view(buffer.data(), n), on_event);
    }
    if (failed) {
      ++s.errors;
      continue;
    }
    s.total_ms.push_back(ms_since(start));
    s.tokens += tokens;
    ++s.completed;
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::vector<std::string> queries;
  std::vector<std::string> earlier;  // a follow-up's earlier question, or ""
  std::string url = "http://127.0.0.1:8000/api/v1/chat";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--url")
      url = value();
    else if (a == "--mode")
      o.mode = value();
    else if (a == "--concurrency")
      o.concurrency = std::stoi(value());
    else if (a == "--requests")
      o.requests = std::stol(value());
    else if (a == "--seconds")
      o.seconds = std::stod(value());
    else if (a == "--query")
      o.query = value();
    else if (a == "--label")
      o.label = value();
    else if (a == "--model")
      o.model = value();
    else if (a == "--header")
      o.header = true;
    else if (a == "--summary")
      o.summary = value();
    else if (a == "--ramp-seconds")
      o.ramp_seconds = std::stod(value());
    else if (a == "--queries-file") {
      std::ifstream in(value());
      std::string line;
      while (std::getline(in, line)) {
        if (line.empty()) continue;
        // "question" (the evaluation's files) or "query" (bench/flat_corpus's);
        // a conversation's "turn2" (the follow-up files) after its "turn1".
        const auto j = nlohmann::json::parse(line);
        if (j.contains("turn2")) {
          queries.push_back(j["turn2"]);
          earlier.push_back(j["turn1"]);
        } else {
          queries.push_back(j.contains("question") ? j["question"] : j["query"]);
          earlier.emplace_back();
        }
      }
    } else {
      std::cerr << "chat-loadgen: unknown argument " << a << "\n";
      return 2;
    }
  }
  // http://host:port/path
  const auto hostpart = url.substr(url.find("//") + 2);
  const auto slash = hostpart.find('/');
  const auto authority = hostpart.substr(0, slash);
  o.path = slash == std::string::npos ? "/" : hostpart.substr(slash);
  o.host = authority.substr(0, authority.find(':'));
  o.port =
      authority.find(':') == std::string::npos ? "80" : authority.substr(authority.find(':') + 1);

  if (queries.empty()) {
    queries.push_back(o.query);
    earlier.emplace_back();
  }
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const std::string& q = queries[i];
    // A follow-up carries its conversation in the messages (the OpenAI
    // face searches it in their light); the native face would need a
    // stored conversation first.
    if (!earlier[i].empty() && o.mode != "openai") {
      std::cerr << "chat-loadgen: follow-ups (\"turn2\") need --mode openai\n";
      return 2;
    }
    nlohmann::json messages = nlohmann::json::array();
    if (!earlier[i].empty()) {
      messages.push_back({{"role", "user"}, {"content", earlier[i]}});
      messages.push_back({{"role", "assistant"}, {"content", "(the answer to that) [1]"}});
    }
    messages.push_back({{"role", "user"}, {"content", q}});
    const std::string body =
        o.mode == "chat"
            ? nlohmann::json{{"query", q}}.dump()
            : nlohmann::json{{"model", o.model}, {"stream", true}, {"messages", messages}}.dump();
    o.requests_text.push_back(fmt::format(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: "
        "{}\r\n\r\n{}",
        o.path, authority, body.size(), body));
  }

  net::io_context ctx(1);
  tcp::resolver resolver(ctx);
  const auto endpoints = resolver.resolve(o.host, o.port);
  std::atomic<long> budget{o.requests};
  Samples s;
  const auto started = Clock::now();
  const auto stop_at = started + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(o.seconds));
  for (int c = 0; c < o.concurrency; ++c) {
    net::co_spawn(ctx, client(o, endpoints, c, budget, stop_at, s), net::detached);
  }
  ctx.run();
  const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();

  if (o.header) {
    std::cout
        << "| run | streams | done | errors | sources p50/p99 ms | first token p50/p90/p99/max ms "
           "| token gap p50/p99 ms | stream p50/p99 ms | chats/s | tokens/s |\n"
           "|---|---|---|---|---|---|---|---|---|---|\n";
  }
  std::cout << fmt::format(
      "| {} | {} | {} | {} | {:.2f} / {:.2f} | {:.2f} / {:.2f} / {:.2f} / {:.2f} | {:.2f} / {:.2f} "
      "| {:.1f} / {:.1f} | {:.0f} | {:.0f} |\n",
      o.label.empty() ? o.mode : o.label, o.concurrency, s.completed, s.errors,
      bench::percentile(s.sources_ms, 50), bench::percentile(s.sources_ms, 99),
      bench::percentile(s.first_token_ms, 50), bench::percentile(s.first_token_ms, 90),
      bench::percentile(s.first_token_ms, 99), bench::percentile(s.first_token_ms, 100),
      bench::percentile(s.gap_ms, 50), bench::percentile(s.gap_ms, 99),
      bench::percentile(s.total_ms, 50), bench::percentile(s.total_ms, 99), s.completed / elapsed,
      s.tokens / elapsed);
  if (!o.summary.empty()) {
    std::ofstream out(o.summary);
    out << fmt::format("completed={}\nerrors={}\ntokens={}\nelapsed_s={:.3f}\n", s.completed,
                       s.errors, s.tokens, elapsed);
    const std::pair<const char*, std::vector<double>*> series[] = {
        {"sources", &s.sources_ms},
        {"first_token", &s.first_token_ms},
        {"gap", &s.gap_ms},
        {"total", &s.total_ms}};
    for (const auto& [name, v] : series) {
      for (const int p : {50, 90, 99, 100})
        out << fmt::format("{}_p{}_ms={:.2f}\n", name, p, bench::percentile(*v, p));
    }
  }
  return s.errors == 0 ? 0 : 1;
}
