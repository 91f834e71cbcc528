#include "inkgen/model/device.hpp"

#include <torch/cuda.h>

#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/error.hpp"

namespace inkgen {

c10::Device resolve_device(const std::string& spec) {
  if (spec == "auto") {
    return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  }
  if (spec == "cpu") return c10::Device(c10::kCPU);
  const auto not_understood = [&spec] {
    return Error(ErrorKind::usage, "--device '" + excerpt(spec) +
                                       "' is not understood; use auto, cpu, cuda or cuda:N");
  };
  if (spec == "cuda" || spec.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (spec != "cuda") {
      // Digits only after the colon: "cuda:", "cuda: 1" and "cuda:+1" are typing slips.
      const std::string digits = spec.substr(5);
      const auto n = !digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos
                         ? parse_whole(digits)
                         : std::nullopt;
      if (!n || *n > 1024) throw not_understood();
      index = static_cast<int>(*n);
    }
    const int count =
        torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
    if (index >= count) {
      throw Error(ErrorKind::usage,
                  "--device " + excerpt(spec) + " asks for a GPU, but LibTorch sees " +
                      std::to_string(count) +
                      " CUDA device(s); use --device cpu or a CUDA build of LibTorch");
    }
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw not_understood();
}

std::string describe_device(const c10::Device& device) {
  return device.str();
}

}  // namespace inkgen
