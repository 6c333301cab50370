#include "search/vector_index.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include <hnswlib/hnswlib.h>

namespace chrysopedia::search {

namespace {

// A stored vector: its scale (float), then one int8 per dimension. The
// vector is made unit-length first, so the scaled dot product of two is
// their cosine.
class Int8CosineSpace final : public hnswlib::SpaceInterface<float> {
 public:
  explicit Int8CosineSpace(std::size_t dimension) : dimension_(dimension) {}
  std::size_t get_data_size() override { return sizeof(float) + dimension_; }
  hnswlib::DISTFUNC<float> get_dist_func() override { return &distance; }
  void* get_dist_func_param() override { return &dimension_; }

  static float dot(const void* a, const void* b, std::size_t n) {
    float sa, sb;
    std::memcpy(&sa, a, sizeof sa);
    std::memcpy(&sb, b, sizeof sb);
    const auto* qa = static_cast<const std::int8_t*>(a) + sizeof(float);
    const auto* qb = static_cast<const std::int8_t*>(b) + sizeof(float);
    std::int32_t sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += std::int32_t{qa[i]} * std::int32_t{qb[i]};
    return static_cast<float>(sum) * sa * sb;
  }

 private:
  static float distance(const void* a, const void* b, const void* param) {
    return 1.0f - dot(a, b, *static_cast<const std::size_t*>(param));
  }
  std::size_t dimension_;
};

// false for a zero vector.
bool quantize(const float* v, std::size_t n, std::vector<char>& out) {
  double norm = 0;
  float peak = 0;
  for (std::size_t i = 0; i < n; ++i) {
    norm += double{v[i]} * v[i];
    peak = std::max(peak, std::fabs(v[i]));
  }
  if (norm <= 0 || peak <= 0) return false;
  const float unit = static_cast<float>(1.0 / std::sqrt(norm));
  const float scale = peak * unit / 127.0f;  // an int8 step, in unit-vector terms
  out.resize(sizeof(float) + n);
  std::memcpy(out.data(), &scale, sizeof scale);
  for (std::size_t i = 0; i < n; ++i) {
    out[sizeof(float) + i] = static_cast<char>(std::lround(v[i] * unit / scale));
  }
  return true;
}

}  // namespace

struct VectorIndex::Impl {
  Impl(std::size_t dimension, std::size_t capacity, const Options& o)
      : space(dimension), hnsw(&space, std::max<std::size_t>(capacity, 1), o.m, o.ef_construction) {
    hnsw.setEf(o.ef_search);
  }
  Int8CosineSpace space;
  hnswlib::HierarchicalNSW<float> hnsw;
  std::size_t m = 16;
};

VectorIndex::VectorIndex(int dimension, std::size_t capacity)
    : VectorIndex(dimension, capacity, Options{}) {}

VectorIndex::VectorIndex(int dimension, std::size_t capacity, Options options)
    : dimension_(dimension),
      impl_(std::make_unique<Impl>(static_cast<std::size_t>(dimension), capacity, options)) {
  impl_->m = options.m;
}

VectorIndex::~VectorIndex() = default;

void VectorIndex::add(long long doc_id, const float* vector) {
  std::vector<char> q;
  if (!quantize(vector, static_cast<std::size_t>(dimension_), q)) return;
  auto& h = impl_->hnsw;
  if (h.cur_element_count >= h.max_elements_) h.resizeIndex(h.max_elements_ * 2);
  h.addPoint(q.data(), static_cast<hnswlib::labeltype>(doc_id));
}

std::vector<VectorIndex::Hit> VectorIndex::nearest(const float* query, std::size_t k) const {
  std::vector<char> q;
  std::vector<Hit> hits;
  if (k == 0 || size() == 0 || !quantize(query, static_cast<std::size_t>(dimension_), q)) {
    return hits;
  }
  auto found = impl_->hnsw.searchKnn(q.data(), k);
  while (!found.empty()) {
    hits.push_back({static_cast<long long>(found.top().second), 1.0f - found.top().first});
    found.pop();
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.similarity != b.similarity ? a.similarity > b.similarity : a.doc_id < b.doc_id;
  });
  return hits;
}

std::size_t VectorIndex::size() const {
  return impl_->hnsw.cur_element_count;
}

std::size_t VectorIndex::memory_bytes() const {
  const auto& h = impl_->hnsw;
  // Level 0 (vector, label, links) for every slot, and the upper levels'
  // links for the few nodes that have them (1/ln(M) of them on average).
  const double upper = static_cast<double>(h.cur_element_count) / std::log(double(impl_->m)) *
                       static_cast<double>(h.size_links_per_element_);
  return h.max_elements_ * h.size_data_per_element_ + static_cast<std::size_t>(upper) +
         h.max_elements_ * sizeof(void*);
}

}  // namespace chrysopedia::search
