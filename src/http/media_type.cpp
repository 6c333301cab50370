#include "chrysopedia/http/media_type.hpp"

#include "common/ascii.hpp"

namespace chrysopedia::http {

using common::trim_ows;

JsonContentType json_content_type(std::optional<std::string_view> value) {
  if (!value) return JsonContentType::not_json;
  const std::string_view rest = *value;
  const auto semi = rest.find(';');
  if (!common::ascii_iequals(trim_ows(rest.substr(0, semi)), "application/json")) {
    return JsonContentType::not_json;
  }
  auto params = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
  while (!params.empty()) {
    const auto next = params.find(';');
    const auto param = params.substr(0, next);
    params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
    const auto eq = param.find('=');
    if (eq == std::string_view::npos ||
        !common::ascii_iequals(trim_ows(param.substr(0, eq)), "charset")) {
      continue;
    }
    auto charset = trim_ows(param.substr(eq + 1));
    if (charset.size() >= 2 && charset.front() == '"' && charset.back() == '"') {
      charset = charset.substr(1, charset.size() - 2);
    }
    if (!common::ascii_iequals(charset, "utf-8") && !common::ascii_iequals(charset, "utf8")) {
      return JsonContentType::bad_charset;
    }
  }
  return JsonContentType::json;
}

}  // namespace chrysopedia::http
