#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace inkgen {

// One of `count` disjoint parts of a batch: the jobs whose index mod count is `index`.
struct Shard {
  int index = 0;
  int count = 1;

  bool contains(std::size_t job_index) const {
    return job_index % static_cast<std::size_t>(count) == static_cast<std::size_t>(index);
  }
  std::string text() const { return std::to_string(index) + "/" + std::to_string(count); }
};

// "i/n" with 0 <= i < n; Error(usage) otherwise.
Shard parse_shard(const std::string& text);

}  // namespace inkgen
