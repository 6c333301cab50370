#include "chrysopedia/http/json_error.hpp"

#include <nlohmann/json.hpp>

namespace chrysopedia::http {

namespace {

// OpenAI's error types, so that one error shape serves both faces (SPEC §1
// reads `code` and `message`; OpenAI's clients read `type` and `param` too).
std::string_view error_type(int status) {
  if (status == 401) return "authentication_error";
  if (status == 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

}  // namespace

Response json_error(int status, std::string_view code, std::string_view message) {
  nlohmann::json body = {
      {"error",
       {{"code", code}, {"message", message}, {"type", error_type(status)}, {"param", nullptr}}}};
  Response r;
  r.status = status;
  // `replace` keeps a message built from client input (a path, a header)
  // printable even when it is not valid UTF-8.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

}  // namespace chrysopedia::http
