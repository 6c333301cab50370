#include "search/vector_index.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <thread>

// hnswlib's hand-vectorised paths prefetch one link past the end of a
// node's list (a read past its allocation: AddressSanitizer stops there),
// and its own distance functions, which they speed up, are not used here.
#define NO_MANUAL_VECTORIZATION
#include <hnswlib/hnswlib.h>

namespace chrysopedia::search {

namespace {

// The distance is most of an index build's time (~2,000 of them a
// document): built for AVX2 too where the compiler can (GCC's function
// multiversioning picks at load time), plain SSE2 otherwise.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CHRYSOPEDIA_DOT_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CHRYSOPEDIA_DOT_CLONES
#endif

CHRYSOPEDIA_DOT_CLONES
std::int32_t dot_int8(const std::int8_t* a, const std::int8_t* b, std::size_t n) {
  std::int32_t sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += std::int32_t{a[i]} * std::int32_t{b[i]};
  return sum;
}

// Two unsigned nibbles a byte: masks and shifts vectorise where the signed
// nibbles' sign extension did not.
CHRYSOPEDIA_DOT_CLONES
std::int32_t dot_nibbles(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) {
  std::int32_t sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sum += std::int32_t{static_cast<std::uint8_t>(a[i] & 15)} * (b[i] & 15) +
           std::int32_t{static_cast<std::uint8_t>(a[i] >> 4)} * (b[i] >> 4);
  }
  return sum;
}

// A stored vector: its header, then the vector made unit-length and rounded
// to `bits`-bit levels, so the scaled dot product of two is their cosine
// (off by about 0.0003 at 8 bits, 0.005 at 4, at 768 dimensions). 8 bits:
// the scale, then one signed level a byte. 4 bits: the scale and the sum of
// the levels, then two levels a byte (low nibble first), each stored as
// level + 7 (0..14): Σ(a-7)(b-7) = Σab - 7(Σa + Σb) + 49n.
template <int Bits>
class QuantizedCosineSpace final : public hnswlib::SpaceInterface<float> {
 public:
  static constexpr float kLevels = Bits == 8 ? 127.0f : 7.0f;
  static constexpr std::size_t kHeader = Bits == 8 ? sizeof(float) : sizeof(float) + 4;
  explicit QuantizedCosineSpace(std::size_t dimension)
      : bytes_(Bits == 8 ? dimension : (dimension + 1) / 2) {}
  // Whole 4-byte words: hnswlib reads each element's link count as an int
  // right after the previous element's data.
  static std::size_t stored_size(std::size_t bytes) { return kHeader + (bytes + 3) / 4 * 4; }
  std::size_t get_data_size() override { return stored_size(bytes_); }
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
    const std::size_t bytes = Bits == 8 ? n : (n + 1) / 2;
    // A 4-bit vector of odd length ends in a level 0 nibble (stored 7).
    out.assign(stored_size(bytes), 0);
    if constexpr (Bits == 4) std::fill(out.begin() + kHeader, out.begin() + kHeader + bytes, 0x77);
    std::memcpy(out.data(), &scale, sizeof scale);
    auto* q = reinterpret_cast<unsigned char*>(out.data() + kHeader);
    std::int32_t level_sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const auto level = static_cast<int>(std::lround(v[i] * unit / scale));
      if constexpr (Bits == 8) {
        q[i] = static_cast<unsigned char>(level);
      } else {
        const auto stored = static_cast<unsigned char>(level + 7);
        q[i / 2] = (i % 2 == 0) ? static_cast<unsigned char>((q[i / 2] & 0xF0) | stored)
                                : static_cast<unsigned char>((q[i / 2] & 0x0F) | (stored << 4));
      }
    }
    if constexpr (Bits == 4) {
      for (std::size_t i = 0; i < bytes; ++i) level_sum += (q[i] & 15) + (q[i] >> 4);
      std::memcpy(out.data() + sizeof(float), &level_sum, sizeof level_sum);
    }
    return true;
  }

 private:
  static float distance(const void* a, const void* b, const void* param) {
    const std::size_t n = *static_cast<const std::size_t*>(param);
    float sa, sb;
    std::memcpy(&sa, a, sizeof sa);
    std::memcpy(&sb, b, sizeof sb);
    const auto* pa = static_cast<const char*>(a) + kHeader;
    const auto* pb = static_cast<const char*>(b) + kHeader;
    std::int32_t dot;
    if constexpr (Bits == 8) {
      dot = dot_int8(reinterpret_cast<const std::int8_t*>(pa),
                     reinterpret_cast<const std::int8_t*>(pb), n);
    } else {
      std::int32_t suma, sumb;
      std::memcpy(&suma, static_cast<const char*>(a) + sizeof(float), sizeof suma);
      std::memcpy(&sumb, static_cast<const char*>(b) + sizeof(float), sizeof sumb);
      dot = dot_nibbles(reinterpret_cast<const std::uint8_t*>(pa),
                        reinterpret_cast<const std::uint8_t*>(pb), n) -
            7 * (suma + sumb) + 49 * static_cast<std::int32_t>(2 * n);
    }
    return 1.0f - static_cast<float>(dot) * sa * sb;
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
  Impl(std::size_t dimension, const std::string& path, const Options& o)
      : bits(o.bits == 4 ? 4 : 8), space(make_space(bits, dimension)), hnsw(space.get(), path) {
    hnsw.setEf(o.ef_search);
  }
  bool quantize(const float* v, std::size_t n, std::vector<char>& out) const {
    return bits == 4 ? QuantizedCosineSpace<4>::quantize(v, n, out)
                     : QuantizedCosineSpace<8>::quantize(v, n, out);
  }
  int bits;
  std::unique_ptr<hnswlib::SpaceInterface<float>> space;
  hnswlib::HierarchicalNSW<float> hnsw;
};

VectorIndex::VectorIndex(int dimension, std::unique_ptr<Impl> impl)
    : dimension_(dimension), impl_(std::move(impl)) {}

void VectorIndex::save(const std::string& path) const {
  impl_->hnsw.saveIndex(path);
}

std::unique_ptr<VectorIndex> VectorIndex::load(const std::string& path, int dimension,
                                               Options options) {
  auto impl = std::make_unique<Impl>(static_cast<std::size_t>(dimension), path, options);
  // hnswlib reads whatever the file holds: a file of another dimension or
  // precision shows in the size of its elements.
  const std::size_t expected = impl->space->get_data_size();
  const std::size_t stored = impl->hnsw.label_offset_ - impl->hnsw.offsetData_;
  if (stored != expected) {
    throw std::runtime_error("the stored semantic index holds vectors of " +
                             std::to_string(stored) + " bytes, not " + std::to_string(expected));
  }
  return std::unique_ptr<VectorIndex>(new VectorIndex(dimension, std::move(impl)));
}

VectorIndex::VectorIndex(int dimension, std::size_t capacity)
    : VectorIndex(dimension, capacity, Options{}) {}

VectorIndex::VectorIndex(int dimension, std::size_t capacity, Options options)
    : dimension_(dimension),
      impl_(std::make_unique<Impl>(static_cast<std::size_t>(dimension), capacity, options)) {}

VectorIndex::~VectorIndex() = default;

void VectorIndex::add(long long doc_id, const float* vector) {
  std::vector<char> q;
  if (!impl_->quantize(vector, static_cast<std::size_t>(dimension_), q)) return;
  auto& h = impl_->hnsw;
  if (h.cur_element_count >= h.max_elements_) h.resizeIndex(h.max_elements_ * 2);
  h.addPoint(q.data(), static_cast<hnswlib::labeltype>(doc_id));
}

void VectorIndex::add_batch(const std::vector<long long>& doc_ids,
                            const std::vector<float>& vectors, unsigned threads) {
  const auto n = static_cast<std::size_t>(dimension_);
  auto& h = impl_->hnsw;
  if (h.cur_element_count + doc_ids.size() > h.max_elements_) {
    h.resizeIndex(std::max(h.max_elements_ * 2, h.cur_element_count + doc_ids.size()));
  }
  // hnswlib's insertions lock what they link: documents go in side by side.
  const auto work = [&](std::size_t first, std::size_t step) {
    std::vector<char> q;
    for (std::size_t i = first; i < doc_ids.size(); i += step) {
      if (impl_->quantize(vectors.data() + i * n, n, q)) {
        h.addPoint(q.data(), static_cast<hnswlib::labeltype>(doc_ids[i]));
      }
    }
  };
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(doc_ids.size())));
  std::vector<std::thread> helpers;
  for (unsigned t = 1; t < threads; ++t) helpers.emplace_back(work, t, threads);
  work(0, threads);
  for (auto& t : helpers) t.join();
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
  const std::size_t data = o.bits == 4 ? (static_cast<std::size_t>(dimension) + 1) / 2 + 4
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
  const double upper = static_cast<double>(h.cur_element_count) / std::log(double(h.M_)) *
                       static_cast<double>(h.size_links_per_element_);
  return h.max_elements_ * h.size_data_per_element_ + static_cast<std::size_t>(upper) +
         h.max_elements_ * sizeof(void*);
}

}  // namespace chrysopedia::search
