#!/usr/bin/env bash
# Installs every Debian package ciak needs to build, test and run (Debian 12, as root).
# Idempotent: packages already present are left alone; apt-get update runs first.
set -euo pipefail

PKGS=(
  # build tools
  build-essential cmake pkg-config clang-format git ca-certificates
  clang libclang-rt-14-dev  # `make fuzz`: libFuzzer, ASan+UBSan runtimes
  # scene parsing, text, images
  libjansson-dev libharfbuzz-dev libfreetype-dev libstb-dev fonts-dejavu-core
  # GPU: Vulkan loader, software device (lavapipe), validation layers, shader compiler
  libvulkan-dev mesa-vulkan-drivers vulkan-validationlayers glslang-tools vulkan-tools
  # media: decode, encode, mux
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev libx264-dev ffmpeg
  # demo assets (voice-over)
  espeak-ng sox
  libespeak-ng-dev  # speech lines, synthesised in-process (engine/speech)
  # server side: store, crypto, HTTP, QR codes, PDF guide
  libsqlite3-dev libsodium-dev libmicrohttpd-dev libqrencode-dev libcairo2-dev libpango1.0-dev
  poppler-utils
  # the people store on PostgreSQL: client library, and the server its tests start
  libpq-dev postgresql
  # server tests: HTTP client; `ciak bench serve`: HTTP load generator
  curl wrk
  nginx  # cluster mode: the router and shared-segment cache of deploy/nginx/
  # preview window and browser tests
  libglfw3-dev xvfb xauth chromium
)
# Node.js with npm: the machine image may already carry one (NodeSource's nodejs bundles npm,
# which conflicts with Debian's npm package); only add Debian's when no npm is on PATH.
if ! command -v npm >/dev/null 2>&1; then PKGS+=(nodejs npm); fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (or via sudo)" >&2
  exit 1
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
