#!/usr/bin/env bash
# Debian packages: the offline Fashion-MNIST copy, Chromium for the browser test, and npm (where no npm is
# installed yet) to fetch the pinned widget JavaScript and fonts the book serves itself (ticketkit/offline.py).
# Skipped (with a note) where apt-get is not usable; the book then needs the datasets some other way.
set -euo pipefail
PKGS="dataset-fashion-mnist chromium chromium-driver"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
if [ -d /usr/share/datasets/fashion-mnist ] && command -v chromium >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "note: apt-get not found; install $PKGS yourself or point TICKETKIT_DATA at your datasets" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "note: not root and no sudo; skipping apt-get install $PKGS" >&2; exit 0; fi
fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $PKGS
