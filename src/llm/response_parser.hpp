#pragma once

#include <cstdint>
#include <string_view>

#include <boost/beast/http/basic_parser.hpp>

namespace chrysopedia::llm {

/// Beast's response parser, handing what it parses to a Sink as it comes:
/// the status, each header, and the body's bytes (chunked or not) without
/// keeping them.
class ResponseParser final : public boost::beast::http::basic_parser<false> {
 public:
  class Sink {
   public:
    virtual void on_status(int code) = 0;
    virtual void on_header(std::string_view name, std::string_view value) = 0;
    /// Returns how many bytes were taken (all of them, or an error in ec).
    virtual std::size_t on_body(std::string_view bytes, boost::system::error_code& ec) = 0;

   protected:
    ~Sink() = default;
  };

  explicit ResponseParser(Sink& sink) : sink_(sink) {}

 private:
  using error_code = boost::system::error_code;
  using string_view = boost::beast::string_view;
  void on_request_impl(boost::beast::http::verb, string_view, string_view, int,
                       error_code&) override {}
  void on_response_impl(int code, string_view, int, error_code&) override { sink_.on_status(code); }
  void on_field_impl(boost::beast::http::field, string_view name, string_view value,
                     error_code&) override {
    sink_.on_header({name.data(), name.size()}, {value.data(), value.size()});
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(string_view body, error_code& ec) override {
    return sink_.on_body({body.data(), body.size()}, ec);
  }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) override {
    return sink_.on_body({body.data(), body.size()}, ec);
  }
  void on_finish_impl(error_code&) override {}

  Sink& sink_;
};

}  // namespace chrysopedia::llm
