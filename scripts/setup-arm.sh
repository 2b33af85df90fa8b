#!/usr/bin/env bash
# Installs what the C-export tests need to build and run generated code on an emulated Cortex-M4: arm-none-eabi-gcc
# with newlib, QEMU, and CMake for the export's CMake build (Debian packages, without recommends: about 600 MB instead
# of 2.5 GB). Idempotent.
# Without apt-get (not Debian) it says so and leaves the Cortex-M tests to skip, unless MCU_MEM_REQUIRE_ARM=1 (CI),
# where a missing toolchain is an error.
set -euo pipefail
if command -v arm-none-eabi-gcc >/dev/null 2>&1 && command -v qemu-system-arm >/dev/null 2>&1 && command -v cmake >/dev/null 2>&1 \
  && dpkg -s libnewlib-arm-none-eabi >/dev/null 2>&1; then
  exit 0
fi
fail() {
  echo "setup-arm: $1" >&2
  if [ "${MCU_MEM_REQUIRE_ARM:-0}" = "1" ]; then exit 1; fi
  echo "setup-arm: the Cortex-M (QEMU) tests will be skipped" >&2
  exit 0
}
command -v apt-get >/dev/null 2>&1 || fail "no apt-get: install arm-none-eabi-gcc, newlib and qemu-system-arm yourself"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || fail "not root and no sudo"
  SUDO="sudo"
fi
echo "setup-arm: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm cmake"
$SUDO apt-get update -qq || fail "apt-get update failed"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm cmake >/dev/null || fail "apt-get install failed"
