#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "inkgen/batch/batch_job.hpp"
#include "inkgen/model/ink_model.hpp"

namespace inkgen {

// Each model of a batch loaded once, by ModelRef::key, on one device. A model that failed to
// load fails again from memory: a broken model file fails every job that names it, quickly.
class ModelCache {
 public:
  explicit ModelCache(c10::Device device) : device_(device) {}
  // Error(model) (or the load's own error) when it cannot be loaded.
  const InkModel& get(const ModelRef& ref);
  std::size_t loads() const { return loads_; }  // load attempts so far

 private:
  struct Entry {
    std::unique_ptr<InkModel> model;
    std::unique_ptr<Error> error;
  };
  c10::Device device_;
  std::map<std::string, Entry> entries_;
  std::size_t loads_ = 0;
};

}  // namespace inkgen
