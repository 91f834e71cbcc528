#include "inkgen/model/device.hpp"

#include <torch/cuda.h>

#include "inkgen/common/error.hpp"

namespace inkgen {

c10::Device resolve_device(const std::string& spec) {
  if (spec == "auto") {
    return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  }
  if (spec == "cpu") return c10::Device(c10::kCPU);
  if (spec == "cuda" || spec.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (spec.size() > 5) {
      std::size_t used = 0;
      try {
        index = std::stoi(spec.substr(5), &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != spec.size() - 5 || index < 0) {
        throw Error(ErrorKind::usage,
                    "--device '" + spec + "' is not understood; use auto, cpu, cuda or cuda:N");
      }
    }
    const int count =
        torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
    if (index >= count) {
      throw Error(ErrorKind::usage,
                  "--device " + spec + " asks for a GPU, but LibTorch sees " +
                      std::to_string(count) +
                      " CUDA device(s); use --device cpu or a CUDA build of LibTorch");
    }
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw Error(ErrorKind::usage,
              "--device '" + spec + "' is not understood; use auto, cpu, cuda or cuda:N");
}

std::string describe_device(const c10::Device& device) {
  return device.str();
}

}  // namespace inkgen
