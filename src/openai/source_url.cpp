#include "openai/source_url.hpp"

namespace chrysopedia::openai {

namespace {

void replace_all(std::string& s, const std::string& what, const std::string& with) {
  for (std::size_t at = 0; (at = s.find(what, at)) != std::string::npos; at += with.size()) {
    s.replace(at, what.size(), with);
  }
}

}  // namespace

std::string source_url(const std::string& url_template, const std::string& slug,
                       const std::string& anchor) {
  std::string url = url_template;
  if (anchor.empty()) {
    if (const auto hash = url.find('#'); hash != std::string::npos) url.erase(hash);
  }
  replace_all(url, "{slug}", slug);
  replace_all(url, "{anchor}", anchor);
  return url;
}

}  // namespace chrysopedia::openai
