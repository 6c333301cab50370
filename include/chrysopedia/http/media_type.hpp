#pragma once

#include <optional>
#include <string_view>

namespace chrysopedia::http {

/// What a request's Content-Type says of a JSON body.
enum class JsonContentType {
  json,         ///< `application/json`, no charset or UTF-8
  not_json,     ///< absent, or another media type (`application/jsonp`, `text/plain`)
  bad_charset,  ///< `application/json` in a charset other than UTF-8
};

/// Parses a Content-Type (RFC 9110 §8.3.1): the media type must be exactly
/// `application/json`, case-insensitive, whitespace around it allowed; a
/// `charset` parameter, quoted or not, must name UTF-8 (JSON is UTF-8,
/// RFC 8259 §8.1); other parameters are ignored.
JsonContentType json_content_type(std::optional<std::string_view> value);

}  // namespace chrysopedia::http
