// fake-llm: the scriptable fake upstream as a program, for benchmarks and
// for trying the service without a model:
//
//   fake-llm [--port P] [--tokens N] [--gap-ms G] [--text "words to stream"]
//            [--embeddings-dim N] [--deltas '["exact", " deltas\n\n", "[1]"]'] [--fail-on WORD]
//
// Serves POST /v1/chat/completions on 127.0.0.1, answering every request with
// the text (or N numbered tokens, or the exact deltas) as an OpenAI stream,
// G ms between tokens; a request whose question holds WORD gets a 500.
// GET /_fake/stats reports its counters and the request bodies it got.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "fakes/fake_llm_server.hpp"

int main(int argc, char** argv) {
  int tokens = 16, gap_ms = 0, port = 0, embeddings_dim = 64;
  std::string text, deltas_json, fail_on;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--port") port = std::atoi(argv[i + 1]);
    if (flag == "--tokens") tokens = std::atoi(argv[i + 1]);
    if (flag == "--gap-ms") gap_ms = std::atoi(argv[i + 1]);
    if (flag == "--text") text = argv[i + 1];
    if (flag == "--deltas") deltas_json = argv[i + 1];
    if (flag == "--fail-on") fail_on = argv[i + 1];
    if (flag == "--embeddings-dim") embeddings_dim = std::atoi(argv[i + 1]);
  }
  std::vector<std::string> deltas;
  if (!deltas_json.empty()) {
    deltas = nlohmann::json::parse(deltas_json).get<std::vector<std::string>>();
  } else if (!text.empty()) {
    std::istringstream words(text);
    std::string w;
    while (words >> w) deltas.push_back((deltas.empty() ? "" : " ") + w);
  } else {
    for (int i = 0; i < tokens; ++i) deltas.push_back(" token" + std::to_string(i));
  }
  chrysopedia::test::FakeLlmServer server(static_cast<std::uint16_t>(port));
  server.keep_last_requests(64);  // /_fake/stats shows the latest
  const auto reply = chrysopedia::test::openai_stream(deltas, std::chrono::milliseconds(gap_ms));
  server.set_handler([reply, fail_on](const chrysopedia::test::RecordedRequest& req) {
    if (!fail_on.empty()) {
      const auto body = nlohmann::json::parse(req.body, nullptr, false);
      const auto question = body.is_discarded() ? req.body : body["messages"].back().dump();
      if (question.find(fail_on) != std::string::npos) {
        return chrysopedia::test::error_reply(500, "scripted failure");
      }
    }
    return reply;
  });
  server.set_embeddings_handler([embeddings_dim](const chrysopedia::test::RecordedRequest& req) {
    return chrysopedia::test::embeddings_reply(req, embeddings_dim);
  });
  std::cout << server.url() << std::endl;  // LLM_API_URL
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  int sig = 0;
  sigwait(&signals, &sig);
  return 0;
}
