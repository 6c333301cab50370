#pragma once

#include <string>

namespace chrysopedia::openai {

/// A source's URL from SOURCE_URL_TEMPLATE: {slug} and {anchor} filled in;
/// for a page-level hit (no anchor) the `#…` part of the template is dropped.
std::string source_url(const std::string& url_template, const std::string& slug,
                       const std::string& anchor);

}  // namespace chrysopedia::openai
