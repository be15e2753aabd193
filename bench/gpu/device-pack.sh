#!/usr/bin/env bash
# bench/gpu/device-pack.sh [BUILD_DIR] — run here (the CPU machine), in the project's root,
# after `make build assets`. Makes .gpu/ (ignored by git) for bench/gpu/device-run.sh, the one
# device call of issue 17 (.gpu is in .gitignore: it travels as a carried path only):
#   .gpu/gl/*.deb          the Vulkan loader and GLVND, as ../shared/gpu/pack.sh takes them (the
#                          NVIDIA Vulkan driver needs libGLdispatch, which libvulkan1 lacks)
#   .gpu/ciak.tar.xz       bin/ (ciak, ciak_bench_gpu, test_gpu), lib/ (every library they load
#                          but glibc, libstdc++, libgcc_s and the GL/Vulkan loader family),
#                          layer/ (VK_LAYER_KHRONOS_validation and its manifest: the device has
#                          none, and "zero validation errors" is one of the issue's goals)
#   .gpu/golden/NAME.png   `ciak frame` of every demo campaign at 7 s, 1280x720, on lavapipe:
#                          what the device's frames are compared with (PSNR)
#   .gpu/source_dir        where test_gpu was built (it reads goldens and fonts from there:
#                          device-run.sh links that path to the device's copy of the tree)
#   .gpu/device-run.sh     the script itself
# Then one device call (see device-run.sh's header). Prints the size: a call carries 64 MiB.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
for b in ciak ciak_bench_gpu tests/test_gpu; do
  [ -x "$build/$b" ] || { echo "device-pack.sh: no $build/$b: run make build first" >&2; exit 1; }
done
[ -d assets/generated ] || { echo "device-pack.sh: no assets/generated: run make assets" >&2; exit 1; }
git check-ignore -q .gpu || { echo "device-pack.sh: .gpu is not in .gitignore" >&2; exit 1; }
rm -rf .gpu && mkdir -p .gpu/gl .gpu/golden .gpu/stage/lib .gpu/stage/bin .gpu/stage/layer

# 1. loader debs (amd64 lists in a private folder; nothing is installed here)
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/ciak-amd64-lists'
mkdir -p /tmp/ciak-amd64-lists/partial
apt-get $o update >/dev/null
(cd .gpu/gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)

# 2. binaries and their libraries
bins=("$build/ciak" "$build/ciak_bench_gpu" "$build/tests/test_gpu")
cp "${bins[@]}" .gpu/stage/bin/
strip --strip-debug .gpu/stage/bin/*
cp /usr/bin/time .gpu/stage/bin/time # GNU time -v, in case the device has none
# test_gpu finds its goldens, fonts and scenes under the source folder it was built in
sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt" >.gpu/source_dir
skip='/(libc|libm|libdl|libpthread|librt|libresolv|ld-linux[^/]*|libstdc\+\+|libgcc_s|libvulkan|libGL[A-Za-z]*|libEGL|libOpenGL|libGLX[^/]*|libGLdispatch)\.so'
ldd "${bins[@]}" | awk '/=> \//{print $3}' | sort -u | grep -Ev "$skip" | xargs -r -I{} cp -L {} .gpu/stage/lib/

# 3. the validation layer, its manifest pointing next to itself
layer=$(ls /usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json 2>/dev/null || true)
if [ -n "$layer" ]; then
  lib=$(sed -n 's/.*"library_path": *"\([^"]*\)".*/\1/p' "$layer")
  [ -e "$lib" ] || lib=$(ldconfig -p | awk -v l="${lib##*/}" '$1 == l {print $NF; exit}')
  cp -L "$lib" .gpu/stage/layer/libVkLayer_khronos_validation.so
  sed 's#"library_path": *"[^"]*"#"library_path": "./libVkLayer_khronos_validation.so"#' "$layer" \
    >.gpu/stage/layer/VkLayer_khronos_validation.json
else
  echo "device-pack.sh: no VK_LAYER_KHRONOS_validation here (vulkan-validationlayers): the device run will say so"
fi
tar -C .gpu/stage -cf - . | xz -T0 -6 >.gpu/ciak.tar.xz
rm -rf .gpu/stage

# 4. lavapipe's frames (the CPU device: RGBA frames are the same on either path)
for s in scenes/*/; do
  n=$(basename "$s")
  [ -f "$s/samples.json" ] || continue
  CIAK_VK_DEVICE=llvmpipe "$build/ciak" frame "$s" --data "$s/samples.json" --at 7 --size 1280x720 \
    -o ".gpu/golden/$n.png" >/dev/null 2>&1 || echo "device-pack.sh: no golden for $n"
done
cp "$here/device-run.sh" .gpu/device-run.sh

tree=$(git ls-files -z | du -cb --files0-from=- 2>/dev/null | tail -n 1 | cut -f1)
carry=$(du -cb .gpu assets/generated | tail -n 1 | cut -f1)
mib=$(((tree + carry) / 1048576))
printf 'device-pack.sh: .gpu is %s MiB; with assets/generated and the tree about %s MiB of the 64 MiB a call may carry\n' \
  "$(($(du -sb .gpu | cut -f1) / 1048576))" "$mib"
[ "$mib" -lt 64 ] || { echo "device-pack.sh: too big to carry" >&2; exit 1; }
