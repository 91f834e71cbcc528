#!/usr/bin/env bash
# Remakes the pictures in samples/ (the default, minimal recipe) and prints the readability tables
# of the previous, classic recipe (samples/README.md "Evidence of the previous recipe"): the same
# runs with --param pixel|fourier and --robust off|light, on the bundled model and, when ../shared
# is beside the checkout, on the shared Keras model (figures only). The known-answer tables are
# made by samples/fidelity_table.py.
#
#   samples/make_samples.sh [INKGEN] [WORKDIR]      (defaults build/release/bin/inkgen, a temp dir)
#   PICTURES_ONLY=1 samples/make_samples.sh ...      (the pictures alone, about a minute)
set -euo pipefail
cd "$(dirname "$0")/.."
inkgen=$(realpath "${1:-build/release/bin/inkgen}")
work=${2:-$(mktemp -d)}
mkdir -p "$work"
steps=200

# A synthetic segment (the bundled model's kind of data) with a crop without ink and one with.
"$inkgen" synth --out "$work/segment" --seed 2001 --force --quiet
blank=384,32,448,96
inked=96,160,160,224

run() {  # run NAME ARGS...: one run into $work/NAME
  local name=$1
  shift
  "$inkgen" "$@" --out "$work/$name" --force --quiet --seed 0
}
classic() {  # classic NAME ARGS...: the same with the previous recipe (200 Adam steps)
  local name=$1
  shift
  run "$name" "$@" --recipe classic
}
row() {  # row LABEL RUN: a table row from the run's record
  python3 - "$1" "$work/$2/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))
s = r["starts"][0]
lf = s["low_frequency_fraction"]
print(f"| {sys.argv[1]} | {s['start_score']['probability']:.4f} | {s['final_score']['probability']:.4f} "
      f"| {s['steps_done']} | {lf['result']:.3f} | {lf['diff']:.3f} |")
PY
}
header() {
  echo
  echo "$1"
  echo
  echo "| variant | start p | final p | steps | low-frequency fraction, result | ..., diff |"
  echo "| --- | --- | --- | --- | --- | --- |"
}

# The pictures: the default recipe.
run maximize-segment maximize --from segment --segment "$work/segment" --crop "$blank"
run minimize-segment minimize --from segment --segment "$work/segment" --crop "$inked"
run maximize-noise maximize --from noise
"$inkgen" attribute --segment "$work/segment" --crop "$inked" --out "$work/attribute" --force --quiet
cp "$work/maximize-segment/montage.png" samples/maximize-segment-bundled.png
cp "$work/minimize-segment/montage.png" samples/minimize-segment-bundled.png
cp "$work/maximize-noise/montage.png" samples/maximize-noise-bundled.png
cp "$work/attribute/montage.png" samples/attribute-segment-bundled.png
# The atlas's reading in samples/README.md was counted on stop 30's step and threshold.
"$inkgen" atlas --layer down2 --grad-threshold 0.15 --lr 2e-4 --out "$work/atlas" --force --quiet
cp "$work/atlas/atlas.png" samples/atlas-down2-bundled.png
# The previous recipe's pictures, for comparison.
classic classic-maximize-segment maximize --from segment --segment "$work/segment" --crop "$blank"
cp "$work/classic-maximize-segment/montage.png" samples/classic-maximize-segment-bundled.png
if [ "${PICTURES_ONLY:-0}" = 1 ]; then
  echo "pictures remade; runs kept in $work"
  exit 0
fi

variants=("pixel off" "pixel light" "fourier off" "fourier light")
header "Bundled model, maximize from uniform noise, $steps Adam steps, seed 0:"
for v in "${variants[@]}"; do
  set -- $v
  classic "noise-$1-$2" maximize --from noise --param "$1" --robust "$2" --steps $steps
  row "\`--param $1 --robust $2\`" "noise-$1-$2"
done
cp "$work/noise-pixel-off/montage.png" samples/maximize-noise-pixel.png
cp "$work/noise-fourier-light/montage.png" samples/maximize-noise-fourier-robust.png

header "Bundled model, the same with --objective bce (every cell's cross-entropy against ink):"
for v in "${variants[@]}"; do
  set -- $v
  classic "bce-noise-$1-$2" maximize --from noise --param "$1" --robust "$2" --objective bce --steps $steps
  row "\`--param $1 --robust $2 --objective bce\`" "bce-noise-$1-$2"
done

header "Bundled model, maximize from the synthetic crop $blank (no ink), $steps Adam steps:"
for v in "${variants[@]}"; do
  set -- $v
  classic "segment-$1-$2" maximize --from segment --segment "$work/segment" --crop "$blank" \
    --param "$1" --robust "$2" --steps $steps
  row "\`--param $1 --robust $2\`" "segment-$1-$2"
done

shared=../shared
if [ -f "$shared/models/keras-patch-x65m25.pt" ] && [ -d "$shared/data/scroll-chunk" ]; then
  keras=(--model "$shared/models/keras-patch-x65m25.pt")
  header "Shared Keras model (keras-patch-x65m25), maximize from uniform noise, $steps steps:"
  for v in "${variants[@]}"; do
    set -- $v
    classic "keras-noise-$1-$2" maximize "${keras[@]}" --from noise --param "$1" --robust "$2" --steps $steps
    row "\`--param $1 --robust $2\`" "keras-noise-$1-$2"
  done
  header "Shared Keras model, maximize from scroll-chunk crop 0,0,65,65 z0 29, $steps steps:"
  for v in "${variants[@]}"; do
    set -- $v
    classic "keras-segment-$1-$2" maximize "${keras[@]}" --from segment --segment "$shared/data/scroll-chunk" \
      --crop 0,0,65,65 --z0 29 --param "$1" --robust "$2" --steps $steps
    row "\`--param $1 --robust $2\`" "keras-segment-$1-$2"
  done
else
  echo
  echo "(../shared is not beside the checkout: no figures for the shared model)"
fi
echo
echo "runs kept in $work"
