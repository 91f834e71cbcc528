#include "inkgen/model/flop_counter.hpp"

#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <c10/core/GradMode.h>

#include <cstring>

namespace inkgen {

namespace {

// RecordFunction takes plain function pointers, so the count lives in a thread-local that only
// forward_macs reads and resets, around its own forward pass on this thread.
thread_local ForwardCounts counted;

std::int64_t product(c10::IntArrayRef v, std::size_t from = 0) {
  std::int64_t p = 1;
  for (std::size_t i = from; i < v.size(); ++i)
    p *= v[i];
  return p;
}

std::int64_t convolution_macs(c10::ArrayRef<const c10::IValue> in) {
  // aten::convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
  // groups)
  if (in.size() < 9 || !in[0].isTensor() || !in[1].isTensor()) return 0;
  const auto x = in[0].toTensor().sizes(), w = in[1].toTensor().sizes();
  const auto stride = in[3].toIntVector(), padding = in[4].toIntVector(),
             dilation = in[5].toIntVector();
  const bool transposed = in[6].toBool();
  const std::int64_t groups = in[8].toInt();
  const std::size_t dims = w.size() - 2;
  std::int64_t spatial = 1;  // the output positions (of the input, for a transposed convolution)
  for (std::size_t i = 0; i < dims; ++i) {
    const auto s = stride.size() > i ? stride[i] : stride[0],
               p = padding.size() > i ? padding[i] : padding[0],
               d = dilation.size() > i ? dilation[i] : dilation[0];
    spatial *= transposed ? x[2 + i] : (x[2 + i] + 2 * p - d * (w[2 + i] - 1) - 1) / s + 1;
  }
  // Every output channel of every position sums over (input channels / groups) x kernel.
  const std::int64_t out_channels = transposed ? w[1] * groups : w[0];
  const std::int64_t in_per_group = transposed ? w[0] / groups : w[1];
  return x[0] * spatial * out_channels * in_per_group * product(w, 2);
}

std::int64_t matmul_macs(const char* name, c10::ArrayRef<const c10::IValue> in) {
  const std::size_t first =
      std::strcmp(name, "aten::addmm") == 0 || std::strcmp(name, "aten::baddbmm") == 0 ? 1 : 0;
  if (in.size() < first + 2 || !in[first].isTensor() || !in[first + 1].isTensor()) return 0;
  const auto a = in[first].toTensor().sizes(), b = in[first + 1].toTensor().sizes();
  if (a.size() < 2 || b.size() < 2) return 0;
  // (..., m, k) x (..., k, n)
  return product(a) * b[b.size() - 1];
}

std::unique_ptr<at::ObserverContext> on_enter(const at::RecordFunction& fn) {
  const char* name = fn.name();
  const auto inputs = fn.inputs();
  const auto first_values = [&](std::size_t i) {
    return inputs.size() > i && inputs[i].isTensor() ? inputs[i].toTensor().numel() : 0;
  };
  if (std::strcmp(name, "aten::convolution") == 0) {
    counted.macs += convolution_macs(inputs);
    counted.operand_values += first_values(0);
  } else if (std::strcmp(name, "aten::addmm") == 0 || std::strcmp(name, "aten::mm") == 0 ||
             std::strcmp(name, "aten::bmm") == 0 || std::strcmp(name, "aten::baddbmm") == 0) {
    counted.macs += matmul_macs(name, inputs);
    counted.operand_values += first_values(
        std::strcmp(name, "aten::addmm") == 0 || std::strcmp(name, "aten::baddbmm") == 0 ? 1 : 0);
  }
  return nullptr;
}

}  // namespace

ForwardCounts count_forward(const InkModel& model, int batch) {
  c10::NoGradGuard no_grad;
  const auto input =
      at::full(model.batch_shape(batch), 0.5f * static_cast<float>(model.card.range_hi),
               at::TensorOptions().device(model.device));
  counted = {};
  const auto handle = at::addThreadLocalCallback(
      at::RecordFunctionCallback(on_enter).needsInputs(true).scopes({at::RecordScope::FUNCTION}));
  try {
    forward(model, input);
  } catch (...) {
    at::removeCallback(handle);
    throw;
  }
  at::removeCallback(handle);
  return counted;
}

std::int64_t forward_macs(const InkModel& model, int batch) {
  return count_forward(model, batch).macs;
}

}  // namespace inkgen
