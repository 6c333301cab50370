#include "search/vector_index.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include <hnswlib/hnswlib.h>

namespace chrysopedia::search {

namespace {

// A stored vector: its scale (float), then the vector made unit-length
// and rounded to `bits`-bit integers (8: one a byte; 4: two a byte, low
// nibble first), so the scaled dot product of two is their cosine. Off by
// about 0.0003 at 8 bits, 0.005 at 4 (768 dimensions).
template <int Bits>
class QuantizedCosineSpace final : public hnswlib::SpaceInterface<float> {
 public:
  static constexpr float kLevels = Bits == 8 ? 127.0f : 7.0f;
  explicit QuantizedCosineSpace(std::size_t dimension)
      : bytes_(Bits == 8 ? dimension : (dimension + 1) / 2) {}
  std::size_t get_data_size() override { return sizeof(float) + bytes_; }
  hnswlib::DISTFUNC<float> get_dist_func() override { return &distance; }
  void* get_dist_func_param() override { return &bytes_; }

  // false for a zero vector.
  static bool quantize(const float* v, std::size_t n, std::vector<char>& out) {
    double norm = 0;
    float peak = 0;
    for (std::size_t i = 0; i < n; ++i) {
      norm += double{v[i]} * v[i];
      peak = std::max(peak, std::fabs(v[i]));
    }
    if (norm <= 0 || peak <= 0) return false;
    const float unit = static_cast<float>(1.0 / std::sqrt(norm));
    const float scale = peak * unit / kLevels;  // one step, in unit-vector terms
    out.assign(sizeof(float) + (Bits == 8 ? n : (n + 1) / 2), 0);
    std::memcpy(out.data(), &scale, sizeof scale);
    auto* q = reinterpret_cast<unsigned char*>(out.data() + sizeof(float));
    for (std::size_t i = 0; i < n; ++i) {
      const auto level = static_cast<int>(std::lround(v[i] * unit / scale));
      if constexpr (Bits == 8) {
        q[i] = static_cast<unsigned char>(level);
      } else {
        const auto nibble = static_cast<unsigned char>(level & 0x0F);
        q[i / 2] |= (i % 2 == 0) ? nibble : static_cast<unsigned char>(nibble << 4);
      }
    }
    return true;
  }

 private:
  static float distance(const void* a, const void* b, const void* param) {
    const std::size_t n = *static_cast<const std::size_t*>(param);
    float sa, sb;
    std::memcpy(&sa, a, sizeof sa);
    std::memcpy(&sb, b, sizeof sb);
    const auto* pa = static_cast<const std::int8_t*>(a) + sizeof(float);
    const auto* pb = static_cast<const std::int8_t*>(b) + sizeof(float);
    std::int32_t sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if constexpr (Bits == 8) {
        sum += std::int32_t{pa[i]} * std::int32_t{pb[i]};
      } else {
        // Arithmetic shifts sign-extend each nibble.
        const std::int32_t lo_a = static_cast<std::int8_t>(pa[i] << 4) >> 4;
        const std::int32_t lo_b = static_cast<std::int8_t>(pb[i] << 4) >> 4;
        sum += lo_a * lo_b + (pa[i] >> 4) * (pb[i] >> 4);
      }
    }
    return 1.0f - static_cast<float>(sum) * sa * sb;
  }
  std::size_t bytes_;
};

std::unique_ptr<hnswlib::SpaceInterface<float>> make_space(int bits, std::size_t dimension) {
  if (bits == 4) return std::make_unique<QuantizedCosineSpace<4>>(dimension);
  return std::make_unique<QuantizedCosineSpace<8>>(dimension);
}

}  // namespace

struct VectorIndex::Impl {
  Impl(std::size_t dimension, std::size_t capacity, const Options& o)
      : bits(o.bits == 4 ? 4 : 8),
        space(make_space(bits, dimension)),
        hnsw(space.get(), std::max<std::size_t>(capacity, 1), o.m, o.ef_construction) {
    hnsw.setEf(o.ef_search);
  }
  bool quantize(const float* v, std::size_t n, std::vector<char>& out) const {
    return bits == 4 ? QuantizedCosineSpace<4>::quantize(v, n, out)
                     : QuantizedCosineSpace<8>::quantize(v, n, out);
  }
  int bits;
  std::unique_ptr<hnswlib::SpaceInterface<float>> space;
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
  if (!impl_->quantize(vector, static_cast<std::size_t>(dimension_), q)) return;
  auto& h = impl_->hnsw;
  if (h.cur_element_count >= h.max_elements_) h.resizeIndex(h.max_elements_ * 2);
  h.addPoint(q.data(), static_cast<hnswlib::labeltype>(doc_id));
}

std::vector<VectorIndex::Hit> VectorIndex::nearest(const float* query, std::size_t k) const {
  std::vector<char> q;
  std::vector<Hit> hits;
  if (k == 0 || size() == 0 || !impl_->quantize(query, static_cast<std::size_t>(dimension_), q)) {
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

int VectorIndex::bits() const {
  return impl_->bits;
}

std::size_t VectorIndex::estimate_bytes(int dimension, std::size_t documents, const Options& o) {
  const std::size_t data = o.bits == 4 ? (static_cast<std::size_t>(dimension) + 1) / 2
                                       : static_cast<std::size_t>(dimension);
  // Per document: the vector and its scale, level-0 links and their count,
  // the label, the level, the upper-level pointer, and the label lookup's
  // hash node (~48 bytes); the upper levels' links are a few per cent.
  const std::size_t per = sizeof(float) + data + (2 * o.m + 1) * 4 + 8 + 4 + 8 + 48;
  return documents * per * 105 / 100;
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
