#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace chrysopedia::bench {

/// The p-th percentile (nearest rank) of the samples; 0 when there are none.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(std::ceil(p / 100.0 * v.size())) - 1;
  return v[std::min(i, v.size() - 1)];
}

}  // namespace chrysopedia::bench
