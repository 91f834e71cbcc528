#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

namespace inkgen {

// Mean absolute change per depth layer between two volumes of one sample ((D, H, W) with any
// number of leading 1s): which
// layers the optimization had to change. Ink models are believed to read a thin band near the
// papyrus surface; this shows whether they do.
std::vector<double> depth_profile(const at::Tensor& start, const at::Tensor& result);

// The fraction of a volume's spectral energy at radial frequencies below `fraction_of_nyquist` of
// the Nyquist frequency (0.5 cycles per voxel): the mean removed, the volume mirrored along each
// axis (as a DCT sees it, so that its faces do not count as edges), a 3D FFT over (D, H, W), |F|^2
// summed over the full spectrum. The readability number of README "Readable volumes": near 1 for
// smooth volumes, near the band's share of the spectrum (about 1% at a quarter) for white noise.
double low_frequency_fraction(const at::Tensor& volume, double fraction_of_nyquist = 0.25);

}  // namespace inkgen
