#!/usr/bin/env bash
# remote.sh: builds and runs test_gpu and ciak_bench_gpu on a machine with a real GPU (one
# shot, no network assumed): reports what is missing instead of installing it.
set -u
out="${OUT:-/tmp/ciak-remote}"; mkdir -p "$out"
{
  echo "== machine"; nproc; nvidia-smi -L 2>&1 | head -3
  echo "== tools"; for t in cmake cc glslangValidator pkg-config vulkaninfo ffmpeg; do
    printf '%s: %s\n' "$t" "$(command -v $t || echo MISSING)"; done
  ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>&1
  for p in vulkan harfbuzz jansson libavcodec; do printf '%s: %s\n' "$p" "$(pkg-config --modversion $p 2>&1)"; done
  vulkaninfo --summary 2>&1 | grep -E "deviceName|deviceType|apiVersion" | head
} 2>&1 | tee "$out/env.txt"
if ! command -v cmake >/dev/null || ! command -v glslangValidator >/dev/null || \
   ! pkg-config --exists vulkan harfbuzz jansson; then
  if [ "$(id -u)" = 0 ] && getent hosts deb.debian.org archive.ubuntu.com >/dev/null 2>&1; then
    bash scripts/install-deps.sh >"$out/install.txt" 2>&1 ||
      { echo "remote: install-deps failed: skipped" | tee -a "$out/env.txt"; exit 0; }
  else
    echo "remote: build dependencies missing and no package network: skipped" | tee -a "$out/env.txt"
    exit 0
  fi
fi
cmake -S . -B build-remote -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$out/cmake.txt" 2>&1 &&
  cmake --build build-remote -j"$(nproc)" --target test_gpu ciak_bench_gpu >"$out/build.txt" 2>&1 ||
  { tail -30 "$out/build.txt"; exit 1; }
./build-remote/tests/test_gpu 2>&1 | tee "$out/test_gpu.txt" | tail -25
./build-remote/ciak_bench_gpu --frames 120 2>&1 | tee "$out/bench.txt" | tail -5
for s in scenes/*/; do
  n=$(basename "$s")
  [ -f "$s/samples.json" ] && ./build-remote/ciak_bench_gpu --frames 120 "$s" "$s/samples.json" 2>&1 | grep -E "device|frames" | tee -a "$out/bench.txt"
done
