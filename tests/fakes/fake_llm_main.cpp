// fake-llm: the scriptable fake upstream as a program, for benchmarks and
// for trying the service without a model:
//
//   fake-llm [--port P] [--tokens N] [--gap-ms G] [--text "words to stream"]
//
// Serves POST /v1/chat/completions on 127.0.0.1, answering every request with
// the text (or N numbered tokens) as an OpenAI stream, G ms between tokens.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "fakes/fake_llm_server.hpp"

int main(int argc, char** argv) {
  int tokens = 16, gap_ms = 0, port = 0;
  std::string text;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--port") port = std::atoi(argv[i + 1]);
    if (flag == "--tokens") tokens = std::atoi(argv[i + 1]);
    if (flag == "--gap-ms") gap_ms = std::atoi(argv[i + 1]);
    if (flag == "--text") text = argv[i + 1];
  }
  std::vector<std::string> deltas;
  if (!text.empty()) {
    std::istringstream words(text);
    std::string w;
    while (words >> w) deltas.push_back((deltas.empty() ? "" : " ") + w);
  } else {
    for (int i = 0; i < tokens; ++i) deltas.push_back(" token" + std::to_string(i));
  }
  chrysopedia::test::FakeLlmServer server(static_cast<std::uint16_t>(port));
  server.set_default(chrysopedia::test::openai_stream(deltas, std::chrono::milliseconds(gap_ms)));
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
