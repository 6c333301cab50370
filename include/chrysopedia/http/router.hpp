#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "chrysopedia/http/exchange.hpp"

namespace chrysopedia::http {

using Handler = std::function<boost::asio::awaitable<void>(Exchange&)>;

/// The routing table: (method, path pattern) to handler. A pattern is a path
/// whose segments are literals or `{name}` placeholders, which match one
/// non-empty segment and are handed to the handler percent-decoded.
class Router {
 public:
  void add(std::string method, std::string pattern, Handler handler);

  struct Match {
    const Handler* handler = nullptr;  ///< null: no route for this method
    std::unordered_map<std::string, std::string> params;
    /// When the path matched but the method did not: the methods it has
    /// (for `405` and its `Allow` header). Empty when nothing matched (`404`).
    std::vector<std::string> allowed;
    /// The pattern of the path that matched (for metrics labels, which must
    /// not carry raw paths); empty when nothing matched.
    std::string_view pattern;
  };

  Match match(std::string_view method, std::string_view path) const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace chrysopedia::http
