#include "inkgen/batch/model_cache.hpp"

namespace inkgen {

const InkModel& ModelCache::get(const ModelRef& ref) {
  auto it = entries_.find(ref.key);
  if (it == entries_.end()) {
    Entry entry;
    ++loads_;
    try {
      LoadOptions load;
      load.device = device_;
      load.overrides = ref.overrides;
      load.precision = ref.precision;
      load.freeze = ref.freeze;
      load.kernels = ref.kernels;
      entry.model = std::make_unique<InkModel>(load_ink_model(ref.path, load));
    } catch (const Error& e) {
      entry.error = std::make_unique<Error>(e);
    } catch (const std::exception& e) {
      entry.error = std::make_unique<Error>(ErrorKind::model,
                                            "model '" + ref.path.string() + "' cannot be loaded (" +
                                                short_reason(e) + "); check the file");
    }
    it = entries_.emplace(ref.key, std::move(entry)).first;
  }
  if (it->second.error) throw *it->second.error;
  return *it->second.model;
}

}  // namespace inkgen
