#!/usr/bin/env bash
# picomp installer for Raspberry Pi OS (Bookworm or later, 32- or 64-bit).
#
# Run from a copy of the picomp source, e.g.
#   git clone <picomp repository> picomp && cd picomp
#   sudo hardware/install.sh                  # engine + broker + knobs
#   sudo hardware/install.sh --dashboard      # and the Node-RED dashboard
#
# What it does, in order (every step can be re-run safely):
#   1. checks this is Raspberry Pi OS / Debian and that Node.js is 20 or newer
#   2. installs the system packages (PortAudio, ALSA tools, build tools)
#   3. creates the "picomp" system user in the audio, gpio and input groups
#   4. builds picomp into /opt/picomp
#   5. installs asound.conf (USB interface as default), the udev rules and
#      the systemd units, then enables and starts picomp
# It never edits /boot/firmware/config.txt: the knob lines depend on your
# wiring, see hardware/README.md.
set -euo pipefail

PREFIX=/opt/picomp
DEFAULTS=/etc/default/picomp
SERVICE_USER=picomp
MIN_NODE_MAJOR=20
WITH_DASHBOARD=0
START=1

usage() {
  cat <<'EOF'
Usage: sudo hardware/install.sh [--dashboard] [--no-start]
  --dashboard   also serve the Node-RED dashboard on port 1880
  --no-start    install and enable, but do not start the service now
EOF
}

for arg in "$@"; do
  case "$arg" in
    --dashboard) WITH_DASHBOARD=1 ;;
    --no-start) START=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $arg" >&2; usage >&2; exit 2 ;;
  esac
done

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run me with sudo: sudo $0 $*"

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -f "$SRC/package.json" ] || [ ! -d "$SRC/src" ]; then
  die "run me from inside the picomp source folder (package.json not found in $SRC)."
fi

say "Checking the system"
if [ -r /etc/os-release ]; then
  # shellcheck disable=SC1091
  . /etc/os-release
  echo "System: ${PRETTY_NAME:-unknown}"
  case "${ID:-}:${ID_LIKE:-}" in
    raspbian:*|debian:*|*:*debian*) ;;
    *) echo "warning: this is not Raspberry Pi OS or Debian; the apt steps may fail." >&2 ;;
  esac
fi
if [ -r /proc/device-tree/model ]; then
  echo "Board: $(tr -d '\0' </proc/device-tree/model)"
else
  echo "warning: no Raspberry Pi detected; knobs will not work here, audio and MQTT will." >&2
fi

say "Installing system packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# libportaudio2 is what naudiodon loads at run time; portaudio19-dev and the
# build tools are for compiling native addons (naudiodon, epoll) on the Pi.
apt-get install -y --no-install-recommends \
  libportaudio2 portaudio19-dev alsa-utils \
  build-essential python3 git ca-certificates

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if ! command -v node >/dev/null 2>&1 || [ "$(node_major)" -lt "$MIN_NODE_MAJOR" ]; then
  # Debian trixie ships Node 20; bookworm only 18, which is too old.
  candidate="$(apt-cache policy nodejs 2>/dev/null | awk '/Candidate:/ {print $2}')"
  if [ -n "$candidate" ] && [ "$candidate" != "(none)" ] && [ "${candidate%%.*}" -ge "$MIN_NODE_MAJOR" ] 2>/dev/null; then
    apt-get install -y nodejs npm
  fi
fi
if ! command -v node >/dev/null 2>&1 || [ "$(node_major)" -lt "$MIN_NODE_MAJOR" ]; then
  die "picomp needs Node.js $MIN_NODE_MAJOR or newer, found $(node --version 2>/dev/null || echo none). Install it from NodeSource (https://github.com/nodesource/distributions, \"Node.js v20.x\" for Debian), then run this script again."
fi
command -v npm >/dev/null 2>&1 || apt-get install -y npm
# npm 11 runs only the dependency install scripts package.json allows
# (allowScripts, hardware/portaudio.md); older npm runs every one.
if [ "$(npm --version | cut -d. -f1)" -lt 11 ]; then
  npm install -g npm@11 --no-audit --no-fund
  hash -r
fi
echo "Node.js $(node --version), npm $(npm --version)"

say "Creating user $SERVICE_USER"
for group in audio gpio input; do
  getent group "$group" >/dev/null || groupadd --system "$group"
done
if ! id "$SERVICE_USER" >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/picomp --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
fi
usermod -a -G audio,gpio,input "$SERVICE_USER"
# Whoever ran sudo can then try the knobs and devices by hand too (after logging in again).
if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
  usermod -a -G audio,gpio,input "$SUDO_USER"
fi

say "Building picomp into $PREFIX"
mkdir -p "$PREFIX"
# Copy the source without build output or a laptop's node_modules (wrong architecture).
tar -C "$SRC" --exclude=./node_modules --exclude=./dist --exclude=./.git -cf - . | tar -C "$PREFIX" -xf -
cd "$PREFIX"
npm ci --no-audit --no-fund
npm run build
npm prune --omit=dev --no-audit --no-fund
chown -R root:root "$PREFIX"
node "$PREFIX/dist/src/cli/main.js" --version >/dev/null || die "the build in $PREFIX does not start; see the messages above."

say "Making the USB audio interface the default ALSA device"
usb_card="$(awk -F'[][]' '/USB-Audio/ {gsub(/ /, "", $2); print $2; exit}' /proc/asound/cards 2>/dev/null || true)"
if [ -f /etc/asound.conf ] && ! grep -q '^# picomp:' /etc/asound.conf; then
  cp /etc/asound.conf "/etc/asound.conf.before-picomp"
  echo "kept your previous /etc/asound.conf as /etc/asound.conf.before-picomp"
fi
if [ -n "$usb_card" ]; then
  sed "s/CARD=Device/CARD=$usb_card/g; s/card Device/card $usb_card/" "$SRC/hardware/asound.conf" >/etc/asound.conf
  echo "USB audio card: $usb_card"
else
  install -m 0644 "$SRC/hardware/asound.conf" /etc/asound.conf
  echo "warning: no USB audio interface plugged in now; /etc/asound.conf assumes the card id \"Device\". Plug it in and run this script again, or edit the file." >&2
fi

say "Installing udev rules and systemd units"
install -m 0644 "$SRC/hardware/99-picomp.rules" /etc/udev/rules.d/99-picomp.rules
udevadm control --reload-rules
udevadm trigger --subsystem-match=gpio --subsystem-match=input || true
install -m 0644 "$SRC/hardware/picomp.service" /etc/systemd/system/picomp.service
install -m 0644 "$SRC/hardware/picomp-dashboard.service" /etc/systemd/system/picomp-dashboard.service
mkdir -p /etc/picomp
if [ ! -f "$DEFAULTS" ]; then
  cat >"$DEFAULTS" <<'EOF'
# Options for "picomp start" run by picomp.service, e.g.
#   PICOMP_ARGS="--config /etc/picomp/picomp.yaml"
# and for "picomp dashboard" run by picomp-dashboard.service, e.g.
#   PICOMP_DASHBOARD_ARGS="--dashboard-port 8080"
# See docs/knobs.md for the knobs: section of the config file.
PICOMP_ARGS=""
PICOMP_DASHBOARD_ARGS=""
EOF
fi

# A picomp command for the shell, on the service's state (users, presets).
cat >/usr/local/bin/picomp <<EOF
#!/bin/sh
# picomp as installed by hardware/install.sh; state in /var/lib/picomp like the service.
: "\${PICOMP_STATE_DIR:=/var/lib/picomp}"
export PICOMP_STATE_DIR
exec /usr/bin/node $PREFIX/dist/src/cli/main.js "\$@"
EOF
chmod 0755 /usr/local/bin/picomp

systemctl daemon-reload
systemctl enable picomp.service
# The dashboard runs as a service of its own, so Node-RED never shares the
# engine's real-time scheduling.
if [ "$WITH_DASHBOARD" -eq 1 ]; then systemctl enable picomp-dashboard.service; fi
if [ "$START" -eq 1 ]; then
  systemctl restart picomp.service
  if [ "$WITH_DASHBOARD" -eq 1 ]; then systemctl restart picomp-dashboard.service; fi
  sleep 2
  systemctl --no-pager --lines=5 status picomp.service || true
fi

say "Done"
cat <<EOF
picomp is installed in $PREFIX and runs as the service "picomp".
  Log:        journalctl -u picomp -f
  Options:    $DEFAULTS (then: sudo systemctl restart picomp)
  Users:      sudo -u $SERVICE_USER picomp user add NAME --role teacher
  Knobs:      add the lines from $SRC/hardware/config.txt that match your
              wiring to /boot/firmware/config.txt and reboot.
EOF
if [ "$WITH_DASHBOARD" -eq 1 ]; then
  echo "  Dashboard:  http://$(hostname).local:1880/dashboard/picomp"
fi
