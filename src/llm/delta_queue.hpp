#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace chrysopedia::llm {

/// The model's text deltas waiting for the consumer, first in first out.
/// At a model's pace there is one at a time, for minutes, on thousands of
/// streams: a std::deque kept a 512-byte block (and its map) a stream for
/// that one string; this keeps a vector slot or two there, and gives back
/// what a flood grew once it is drained.
class DeltaQueue {
 public:
  bool empty() const { return head_ == items_.size(); }
  /// The text waiting, in bytes (what the pause threshold counts).
  std::size_t bytes() const { return bytes_; }

  void push(std::string_view text) {
    items_.emplace_back(text);
    bytes_ += text.size();
  }

  /// The oldest delta; the queue must not be empty.
  std::string take() {
    std::string out = std::move(items_[head_++]);
    bytes_ -= out.size();
    if (empty()) {
      head_ = 0;
      if (items_.capacity() > kKeptSlots) {
        std::vector<std::string>().swap(items_);
      } else {
        items_.clear();
      }
    }
    return out;
  }

  /// Slots held, taken or not (for tests of what a stream keeps).
  std::size_t capacity() const { return items_.capacity(); }

 private:
  // What a read of a bursting model fills stays for the next read (growing
  // it again every read cost a burst's relay an eighth of its CPU); only a
  // flood's worth goes. A paced stream never grows past a slot or two.
  static constexpr std::size_t kKeptSlots = 256;

  std::vector<std::string> items_;
  std::size_t head_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace chrysopedia::llm
