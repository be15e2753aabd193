#!/usr/bin/env bash
# bench/gpu/device-run.sh — issue 17's one device call, prepared on the CPU machine.
#
# Here first:   make build assets && bash bench/gpu/device-pack.sh
#               CIAK_DRY=1 OUT=/tmp/dry bash .gpu/device-run.sh     (dry run on lavapipe, ~2 min)
# Then one call of the device tool, from the project's root:
#   command:   bash .gpu/device-run.sh
#   carry:     [".gpu", "assets/generated"]
#   timeout_s: 540
# and give the machine back. Everything it prints is in $OUT/run.txt; PNGs and logs in $OUT.
#
# What it does, most wanted first, each step capped so the whole stays under ~8 minutes
# (steps that would pass the budget are skipped and say so):
#   1. the Vulkan loader and GLVND unpacked to / (the device tool's README), the carried
#      libraries the machine already has dropped (nothing of ours shadows the driver's), every
#      NVIDIA ICD manifest probed on its own, the loader's own words printed on failure;
#   2. ciak_bench_gpu on every demo campaign at 720p and 1080p, the YUV path (NV12 alone, the
#      encoder's) and the RGBA path (--outputs both): ms per frame with readback, and libx264
#      on the same frames (16 cores); one short run of each with the validation layer on;
#   3. `ciak frame` of every campaign at 1280x720 against lavapipe's (.gpu/golden, PSNR: ffmpeg
#      when the machine has it, else ciak_bench_gpu --psnr);
#   4. test_gpu (both paths, readback, device frames, validation on);
#   5. `ciak render --no-share` per campaign under /usr/bin/time -v (wall, CPU, max RSS).
# CIAK_DRY=1: the same at 320x180 and few frames, no / touched, on this machine's lavapipe
# forced to the GPU path (CIAK_GPU_PATH=gpu, as the GPU takes by itself).
set -u
out=${OUT:-/tmp/out}
mkdir -p "$out"
exec > >(tee -a "$out/run.txt") 2>&1
dry=${CIAK_DRY:-0}
# A dry run takes the path the GPU will take (lavapipe would take the CPU path by itself).
[ "$dry" = 1 ] && export CIAK_GPU_PATH=${CIAK_GPU_PATH:-gpu}
budget=${CIAK_BUDGET_S:-450} # seconds for steps 2-5, after the setup
t0=$(date +%s)
elapsed() { echo $(($(date +%s) - t0)); }
step() { echo; echo "== $* (at $(elapsed) s)"; }
# cap N: the seconds a step may take, N at most, what is left of the budget at least 0
cap() {
  local left=$((budget + setup_s - $(elapsed)))
  [ "$left" -lt "$1" ] && echo "$left" || echo "$1"
}
setup_s=0

step "machine"
nproc
command -v nvidia-smi >/dev/null &&
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -n 2
uname -r
nv=0
if [ "$dry" != 1 ] && { command -v nvidia-smi >/dev/null || [ -d /usr/local/nvidia ]; }; then nv=1; fi
[ -f .gpu/ciak.tar.xz ] || { echo "device-run.sh: no .gpu/ciak.tar.xz: run bench/gpu/device-pack.sh and carry .gpu"; exit 1; }
if [ "$nv" = 1 ]; then
  for f in .gpu/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
ck=/tmp/ck
rm -rf "$ck" && mkdir -p "$ck" && xz -dc .gpu/ciak.tar.xz | tar -C "$ck" -xf -
if [ "$nv" = 1 ]; then
  have=$(ldconfig -p | awk '{print $1}' | sort -u)
  for f in "$ck"/lib/*; do grep -qx "$(basename "$f")" <<<"$have" && rm -f "$f"; done
  echo "carried libraries kept: $(ls "$ck/lib" | wc -l)"
fi
export LD_LIBRARY_PATH=$ck/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
C=$ck/bin/ciak G=$ck/bin/ciak_bench_gpu T=$ck/bin/test_gpu
TIME=/usr/bin/time
[ -x "$TIME" ] || TIME=$ck/bin/time
# test_gpu reads tests/golden, assets and scenes under the folder it was built in
src=$(cat .gpu/source_dir 2>/dev/null || true)
if [ -n "$src" ] && [ ! -e "$src" ]; then
  mkdir -p "$(dirname "$src")" && ln -s "$PWD" "$src" && echo "test_gpu's source folder $src -> $PWD"
fi
mkdir -p build
ldd "$C" "$G" "$T" | grep 'not found' && echo "device-run.sh: libraries missing (above)"
if [ -f "$ck/layer/VkLayer_khronos_validation.json" ]; then
  export VK_ADD_LAYER_PATH=$ck/layer # loader >= 1.3.234; VK_LAYER_PATH for older ones
  export VK_LAYER_PATH=$ck/layer
  echo "validation layer: carried"
else
  export CIAK_TEST_NO_VALIDATION=1
  echo "validation layer: NOT carried (test_gpu told so; validation counts mean nothing)"
fi

step "ICD manifests"
cands=""
[ "$nv" = 1 ] && cands=$(ls /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json \
  /usr/share/vulkan/icd.d/nvidia*.json /etc/vulkan/icd.d/nvidia*.json 2>/dev/null)
lib=$(ldconfig -p | awk '/libGLX_nvidia.so.0/{print $NF; exit}')
echo "libGLX_nvidia: ${lib:-not in ldconfig}"
[ -n "$lib" ] && ldd "$lib" | grep 'not found'
ok="" keep="" okp="" n=0 p=""
probe_scene=scenes/assegno-sociale
for j in $cands ""; do
  n=$((n + 1))
  p="$out/probe-$n.txt"
  if [ -n "$j" ]; then
    export VK_DRIVER_FILES=$j
    l=$(tr -d '\n ' <"$j" | sed -n 's/.*"library_path":"\([^"]*\)".*/\1/p')
    echo "-- probe $n: $j: $(tr -d '\n ' <"$j" | head -c 200)"
    echo "   library_path ${l:-?}: $({ [ -e "$l" ] || ldconfig -p | grep -q "${l##*/}"; } && echo found || echo NOT FOUND)"
  else
    unset VK_DRIVER_FILES
    echo "-- probe $n: the loader's default"
  fi
  if VK_LOADER_DEBUG=error,warn timeout 60 "$C" frame "$probe_scene" --data "$probe_scene/samples.json" \
    --at 7 --size 320x180 -o "$out/probe.png" >"$p" 2>&1 && { [ "$dry" = 1 ] || ! grep -qi llvmpipe "$p"; }; then
    echo "   ok: $(grep -i 'using device' "$p" | head -n 1)"
    [ -n "$ok" ] || { ok=1; keep=$j; okp=$p; }
  else
    echo "   failed; the loader said:"
    grep -E '^(\[Vulkan Loader\] )?(ERROR|WARNING)|loader|vkCreateInstance|icd' "$p" | sed 's/^/     /' | head -n 40
    echo "   ciak said: $(grep -E 'ciak( frame)?:' "$p" | tail -n 2 | tr '\n' ' ')"
  fi
done
if [ -n "$keep" ]; then export VK_DRIVER_FILES=$keep; else unset VK_DRIVER_FILES; fi
[ -n "$ok" ] || echo "device-run.sh: no GPU Vulkan device came up (above); the rest runs on what the loader finds"
echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-(loader default)}"
grep -i 'using device' "${okp:-$p}"
setup_s=$(elapsed)

campaigns=$(for s in scenes/*/; do [ -f "$s/samples.json" ] && basename "$s"; done)
if [ "$dry" = 1 ]; then
  sizes="--size 320x180" frames=10 rsize="--size 320x180" fsize=320x180
else
  sizes="" frames=240 rsize="" fsize=1280x720
fi

step "2. ciak_bench_gpu: every campaign, the YUV path (NV12) and the RGBA path (RGBA + NV12)"
for o in nv12 both; do
  for c in $campaigns; do
    s=$(cap 60)
    [ "$s" -gt 5 ] || { echo "$c $o: skipped (budget)"; continue; }
    echo "-- $c, --outputs $o"
    timeout "$s" "$G" --frames "$frames" $sizes --outputs "$o" "scenes/$c" "scenes/$c/samples.json" 2>&1 |
      grep -vE '^  (gpu|video)' | tail -n 5
  done
done
echo "-- validation on (30 frames, 720p; slow by design: the counts matter, not the times)"
for o in nv12 both; do
  s=$(cap 60)
  [ "$s" -gt 5 ] || { echo "validation $o: skipped (budget)"; continue; }
  CIAK_VK_VALIDATION=1 timeout "$s" "$G" --frames 30 --size "${fsize}" --outputs "$o" \
    scenes/assegno-sociale scenes/assegno-sociale/samples.json >"$out/bench-validation-$o.txt" 2>&1
  grep -E 'path|validation' "$out/bench-validation-$o.txt" | grep -v 'validation on' | head -n 3
  grep -c 'vulkan validation' "$out/bench-validation-$o.txt" | sed 's/^/   validation lines logged: /'
  grep 'vulkan validation' "$out/bench-validation-$o.txt" | cut -c1-400 | sort | uniq -c | sort -rn | head -n 5
done

step "3. ciak frame at $fsize against lavapipe's (.gpu/golden)"
mkdir -p "$out/frames"
for c in $campaigns; do
  s=$(cap 30)
  [ "$s" -gt 3 ] || { echo "$c: skipped (budget)"; continue; }
  f="$out/frames/$c.png"
  timeout "$s" "$C" frame "scenes/$c" --data "scenes/$c/samples.json" --at 7 --size "$fsize" -o "$f" \
    >"$out/frames/$c.txt" 2>&1 || { echo "$c: ciak frame failed: $(tail -n 1 "$out/frames/$c.txt")"; continue; }
  g=.gpu/golden/$c.png
  if [ "$dry" = 1 ]; then # the goldens are 1280x720: make this size's here, on lavapipe
    g="$out/frames/$c-lavapipe.png"
    CIAK_VK_DEVICE=llvmpipe "$C" frame "scenes/$c" --data "scenes/$c/samples.json" --at 7 --size "$fsize" -o "$g" >/dev/null 2>&1
  fi
  [ -f "$g" ] || { echo "$c: no golden"; continue; }
  printf '%s: ' "$c"
  "$G" --psnr "$g" "$f"
  if command -v ffmpeg >/dev/null; then
    printf '   ffmpeg: '
    ffmpeg -hide_banner -nostats -i "$g" -i "$f" -lavfi psnr -f null - 2>&1 | grep -o 'PSNR.*' | tail -n 1
  fi
done

step "4. test_gpu on this device (both paths, readback, device frames)"
s=$(cap 150)
if [ "$s" -gt 10 ]; then
  (cd "$out" && timeout "$s" "$T") >"$out/test_gpu.txt" 2>&1
  echo "exit $?"
  grep -E 'device:|path|readback|device frames|validation|YUV|CPU path vs|failed|passed' "$out/test_gpu.txt" | head -n 60
else
  echo "skipped (budget)"
fi

step "5. ciak render --no-share, every campaign, record 0 (encoder: what ciak probes)"
for c in $campaigns; do
  s=$(cap 120)
  [ "$s" -gt 10 ] || { echo "$c: skipped (budget)"; continue; }
  rm -rf "/tmp/r-$c"
  "$TIME" -v -o "$out/render-$c.time" timeout "$s" "$C" render "scenes/$c" \
    --data "scenes/$c/samples.json" -o "/tmp/r-$c" --no-share $rsize >"$out/render-$c.txt" 2>&1
  echo "$c: exit $?; $(tail -n 1 "$out/render-$c.txt")"
  grep -E 'Elapsed|User time|System time|Maximum resident' "$out/render-$c.time" | sed 's/^\s*/   /'
done
rm -rf /tmp/r-*

step "done"
