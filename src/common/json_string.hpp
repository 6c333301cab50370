#pragma once

#include <string>
#include <string_view>

namespace chrysopedia::common {

/// Appends `text` as a JSON string literal, quotes included: `"` and `\`
/// and control characters escaped (as nlohmann::json writes them), other
/// characters as they are, and bytes that are not valid UTF-8 replaced with
/// U+FFFD. The prompt and the sources are written once per chat and are
/// kilobytes long; a run of plain text is copied in one go.
void append_json_string(std::string& out, std::string_view text);

}  // namespace chrysopedia::common
