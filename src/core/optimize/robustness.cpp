#include "inkgen/optimize/robustness.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "inkgen/common/error.hpp"

namespace inkgen {

TransformRanges transform_ranges(Robustness robustness) {
  switch (robustness) {
    case Robustness::light:
      return {2, 2, 1, 0.0, 0.0};
    case Robustness::strong:
      return {4, 4, 2, 0.10, 15.0};
    case Robustness::off:
      break;
  }
  return {};
}

at::Tensor random_transform(const at::Tensor& volume, Robustness robustness, double fill,
                            std::mt19937_64& rng) {
  if (robustness == Robustness::off) return volume;
  const TransformRanges r = transform_ranges(robustness);
  const int64_t n = volume.size(0), d = volume.size(2), h = volume.size(3), w = volume.size(4);
  // Constant padding gives the transform an edge of neutral values to pull in, as Lucid's does.
  const auto padded = at::constant_pad_nd(volume, {r.pad, r.pad, r.pad, r.pad}, fill);
  const double ph = static_cast<double>(h + 2 * r.pad), pw = static_cast<double>(w + 2 * r.pad);

  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::uniform_int_distribution<int> shift_xy(-r.shift_xy, r.shift_xy),
      shift_z(-r.shift_z, r.shift_z);
  std::vector<float> thetas;
  for (int64_t i = 0; i < n; ++i) {
    const double angle = u(rng) * r.rotate_deg * M_PI / 180.0;
    const double s = 1.0 + u(rng) * r.scale;
    // Normalised coordinates run -1..1 across each axis, so a shift of k voxels is 2k / size.
    const double tx = shift_xy(rng) * 2.0 / pw, ty = shift_xy(rng) * 2.0 / ph;
    const double tz = shift_z(rng) * 2.0 / static_cast<double>(d);
    const double c = std::cos(angle) / s, sn = std::sin(angle) / s;
    // Output (x, y, z) -> input coordinates: rotate and scale in the x-y plane, shift all three.
    const float theta[12] = {static_cast<float>(c),
                             static_cast<float>(-sn),
                             0.f,
                             static_cast<float>(tx),
                             static_cast<float>(sn),
                             static_cast<float>(c),
                             0.f,
                             static_cast<float>(ty),
                             0.f,
                             0.f,
                             1.f,
                             static_cast<float>(tz)};
    thetas.insert(thetas.end(), theta, theta + 12);
  }
  const auto theta =
      at::tensor(thetas).reshape({n, 3, 4}).to(volume.device(), volume.scalar_type());
  const auto grid = at::affine_grid_generator(theta, padded.sizes(), /*align_corners=*/false);
  // Border padding (the constant pad is the border). Whole-voxel shifts alone land on voxel
  // centres, where nearest sampling copies values exactly; scalings and rotations need trilinear.
  const bool resample = r.scale > 0 || r.rotate_deg > 0;
  const auto moved = at::grid_sampler(padded, grid, resample ? 0 : 1, 1, false);
  return moved.narrow(3, r.pad, h).narrow(4, r.pad, w);
}

}  // namespace inkgen
