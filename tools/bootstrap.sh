#!/bin/sh
# Creates the virtual environment and installs Think Twice with its development tools.
# On a fresh Debian machine it also installs the few system libraries Qt needs.
set -eu
python="${1:-python3}"
venv="${2:-.venv}"

missing=""
command -v dpkg-query >/dev/null 2>&1 && for pkg in libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 \
    libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 fonts-dejavu-core; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if ! "$python" -c "import ensurepip, venv" >/dev/null 2>&1; then
    missing="$missing python3-venv"
fi
if [ -n "$missing" ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing system packages:$missing"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    else
        echo "Think Twice needs these system packages:$missing" >&2
        echo "Install them with: sudo apt-get install$missing" >&2
    fi
fi

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[dev]"
