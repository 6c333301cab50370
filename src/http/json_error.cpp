#include "chrysopedia/http/json_error.hpp"

#include <nlohmann/json.hpp>

namespace chrysopedia::http {

Response json_error(int status, std::string_view code, std::string_view message) {
  nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  Response r;
  r.status = status;
  // `replace` keeps a message built from client input (a path, a header)
  // printable even when it is not valid UTF-8.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

}  // namespace chrysopedia::http
