#!/usr/bin/env bash
# Regenerates the GPU golden images in tests/golden/ deliberately. test_gpu never rewrites a
# golden on its own: a missing or different golden fails. After running this, look at every
# changed image (git diff --stat tests/golden; open the PNGs) before committing them.
#   scripts/regen-goldens.sh [BUILD_DIR]     (default: build)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
cmake -S "$root" -B "$build" >/dev/null
cmake --build "$build" --target test_gpu -j"$(nproc)"
cd "$root"
CIAK_REGEN_GOLDENS=1 "$build/tests/test_gpu"
echo "regen-goldens: done; review with: git status tests/golden"
