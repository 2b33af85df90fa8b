#!/usr/bin/env bash
# Builds TFLM (../shared/third_party/tflite-micro, pinned, offline) for 32-bit ARM with -fshort-enums, as a Cortex-M
# build lays out its structs, and links scripts/tflm/runner.cc against it: the reference for the TFLM mode's arena
# figures, run under qemu-arm. Everything goes into a cache outside the clone ($MCU_MEM_TFLM, default
# ~/.cache/mcu-mem/tflm); a later run reuses the library and relinks the runner only when runner.cc changed.
# Needs g++-arm-linux-gnueabihf, qemu-user, python3-numpy and python3-pil (TFLM's Makefile runs a Python script at parse
# time): installed with apt-get when missing. Prints the runner's path on the last line.
# Without apt-get or the TFLM tree it says so and exits 0 (the TFLM comparison is skipped) unless
# MCU_MEM_REQUIRE_TFLM=1 (CI), where it is an error.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
src="${MCU_MEM_TFLM_SRC:-$repo/../shared/third_party/tflite-micro}"
cache="${MCU_MEM_TFLM:-$HOME/.cache/mcu-mem/tflm}"
fail() {
  echo "tflm-setup: $1" >&2
  if [ "${MCU_MEM_REQUIRE_TFLM:-0}" = "1" ]; then exit 1; fi
  echo "tflm-setup: the comparison with TFLM will be skipped" >&2
  exit 0
}
[ -f "$src/PINNED.md" ] || fail "no TFLM tree at $src"

need=()
command -v arm-linux-gnueabihf-g++ >/dev/null 2>&1 || need+=(g++-arm-linux-gnueabihf)
command -v qemu-arm >/dev/null 2>&1 || need+=(qemu-user)
PATH=/usr/bin:$PATH python3 -c "import numpy, PIL" >/dev/null 2>&1 || need+=(python3-numpy python3-pil)
if [ ${#need[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || fail "no apt-get: install ${need[*]} yourself"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || fail "not root and no sudo"
    SUDO="sudo"
  fi
  echo "tflm-setup: apt-get install ${need[*]}" >&2
  $SUDO apt-get update -qq || fail "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || fail "apt-get install failed"
fi

tree="$cache/tree"
lib="$tree/gen/linux_armhf_default_gcc/lib/libtensorflow-microlite.a"
if [ ! -f "$lib" ]; then
  mkdir -p "$cache"
  rm -rf "$tree"
  cp -r "$src" "$tree"
  chmod -R u+w "$tree"
  echo "tflm-setup: building TFLM for armhf (-fshort-enums), once; about 8 minutes on 2 cores" >&2
  start=$SECONDS
  (cd "$tree" && PATH=/usr/bin:$PATH make -s -f tensorflow/lite/micro/tools/make/Makefile -j"$(nproc)" TARGET_ARCH=armhf \
    TARGET_TOOLCHAIN_PREFIX=arm-linux-gnueabihf- CXX_TOOL="g++ -fshort-enums" CC_TOOL="gcc -fshort-enums" microlite \
    >"$cache/build.log" 2>&1) || { tail -20 "$cache/build.log" >&2; fail "the TFLM build failed (log: $cache/build.log)"; }
  echo "tflm-setup: TFLM built in $((SECONDS - start)) s" >&2
fi

runner="$cache/tflm-runner-armhf"
stamp="$(sha256sum "$here/runner.cc" | cut -c1-16)"
if [ ! -x "$runner" ] || [ "$(cat "$runner.stamp" 2>/dev/null)" != "$stamp" ]; then
  d="$tree/tensorflow/lite/micro/tools/make/downloads"
  arm-linux-gnueabihf-g++ -std=c++17 -O2 -fshort-enums -fno-exceptions -fno-rtti -static -Wl,--no-enum-size-warning \
    -DTF_LITE_STATIC_MEMORY -DTF_LITE_DISABLE_X86_NEON \
    -I"$tree" -I"$d/flatbuffers/include" -I"$d/gemmlowp" -I"$d/ruy" -I"$d/kissfft" \
    "$here/runner.cc" "$lib" -o "$runner" || fail "the TFLM runner did not link"
  echo "$stamp" >"$runner.stamp"
fi
echo "$runner"
