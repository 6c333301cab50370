#pragma once

#include <sstream>
#include <string>

namespace chrysopedia::test {

/// The value of one series line (`name{labels} value`) in a /metrics
/// scrape; -1 when absent.
inline double metric_sample(const std::string& scrape, const std::string& series) {
  std::istringstream in(scrape);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

}  // namespace chrysopedia::test
