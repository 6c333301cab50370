#include "app/web_routes.hpp"

#include <string_view>

namespace chrysopedia::web {
// Generated from web/ by cmake/embed_file.cmake.
extern const std::string_view web_index_html;
extern const std::string_view web_chat_js;
extern const std::string_view web_chat_css;
}  // namespace chrysopedia::web

namespace chrysopedia::app {

namespace {

// The page runs only its own script and style and talks only to us; model
// text is never markup, and this keeps an injection from running even if
// that ever slipped.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void add_asset(http::Router& router, const char* path, const char* content_type,
               std::string_view body) {
  router.add("GET", path, [content_type, body](http::Exchange& ex) -> boost::asio::awaitable<void> {
    http::Response r;
    r.content_type = content_type;
    r.body = std::string(body);
    // Small files: revalidating costs little and a new build shows at once.
    r.headers.emplace_back("Cache-Control", "no-cache");
    r.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    co_await ex.respond(std::move(r));
  });
}

}  // namespace

void add_web_routes(http::Router& router) {
  add_asset(router, "/", "text/html; charset=utf-8", web::web_index_html);
  add_asset(router, "/chat.js", "text/javascript; charset=utf-8", web::web_chat_js);
  add_asset(router, "/chat.css", "text/css; charset=utf-8", web::web_chat_css);
}

}  // namespace chrysopedia::app
