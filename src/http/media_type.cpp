#include "chrysopedia/http/media_type.hpp"

#include <boost/beast/core/string.hpp>

namespace chrysopedia::http {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

JsonContentType json_content_type(std::optional<std::string_view> value) {
  if (!value) return JsonContentType::not_json;
  const std::string_view rest = *value;
  const auto semi = rest.find(';');
  if (!boost::beast::iequals(trim(rest.substr(0, semi)), "application/json")) {
    return JsonContentType::not_json;
  }
  auto params = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
  while (!params.empty()) {
    const auto next = params.find(';');
    const auto param = params.substr(0, next);
    params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
    const auto eq = param.find('=');
    if (eq == std::string_view::npos ||
        !boost::beast::iequals(trim(param.substr(0, eq)), "charset")) {
      continue;
    }
    auto charset = trim(param.substr(eq + 1));
    if (charset.size() >= 2 && charset.front() == '"' && charset.back() == '"') {
      charset = charset.substr(1, charset.size() - 2);
    }
    if (!boost::beast::iequals(charset, "utf-8") && !boost::beast::iequals(charset, "utf8")) {
      return JsonContentType::bad_charset;
    }
  }
  return JsonContentType::json;
}

}  // namespace chrysopedia::http
