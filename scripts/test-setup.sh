#!/usr/bin/env bash
# What the tests need from the system, provisioned when it can be: `npm test`
# runs this first, and .ci/run runs it before `npm install`.
#  - Installs the missing Debian packages below with apt-get, as root or
#    through sudo (which may ask for a password on a terminal).
#  - Builds the audio driver (naudiodon, an optional dependency npm skipped
#    when PortAudio was missing) once PortAudio is there: `npm install`.
#  - When it cannot (no apt, no root or sudo), says in one line what to
#    install; the tests that need PortAudio are then skipped, and those
#    that need another missing program fail naming it.
# Fails only when it could provision and that did not work.
set -euo pipefail
cd "$(dirname "$0")/.."

# portaudio19-dev, build-essential, python3: naudiodon builds against the
# system PortAudio (libportaudio2 is the runtime library);
# libasound2-plugins, alsa-utils: the tests' ALSA file/null sound cards;
# mosquitto: interop broker; chromium: dashboard tests; ffmpeg, sox: WAV
# interop and benchmarks; shellcheck, systemd: checks of hardware/ scripts
# and units; docker-compose: parses docker-compose*.yml (no Docker engine
# runs in the tests); jackd2: a JACK dummy server for the strict-host tests;
# nats-server: the clustered broker of the classroom tests.
PACKAGES=(
  build-essential python3
  portaudio19-dev libportaudio2 libasound2-plugins alsa-utils
  mosquitto mosquitto-clients chromium ffmpeg sox shellcheck systemd docker-compose jackd2 nats-server
)
APT_LOG=${TMPDIR:-/tmp}/picomp-test-setup-apt.log

missing_packages() {
  local pkg
  for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f '${db:Status-Abbrev}' "$pkg" 2>/dev/null | grep -q '^ii' || printf '%s\n' "$pkg"
  done
}

# Prints the command prefix that runs apt-get as root, or fails.
root_prefix() {
  command -v apt-get >/dev/null || return 1
  if [ "$(id -u)" = 0 ]; then
    echo ""
  elif command -v sudo >/dev/null && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
    echo "sudo"
  else
    return 1
  fi
}

driver_built() { [ -f node_modules/naudiodon/package.json ]; }

if ! command -v dpkg-query >/dev/null; then
  echo "picomp tests: not a Debian-like system, so nothing is installed for them; they need ${PACKAGES[*]} (Debian names)." >&2
  exit 0
fi

mapfile -t missing < <(missing_packages)
if [ "${#missing[@]}" -gt 0 ]; then
  if prefix=$(root_prefix); then
    echo "picomp tests: installing ${missing[*]} (apt-get, log in $APT_LOG)" >&2
    export DEBIAN_FRONTEND=noninteractive
    { $prefix apt-get update -qq && $prefix apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
      > "$APT_LOG" 2>&1 || { tail -20 "$APT_LOG" >&2; echo "picomp tests: apt-get could not install ${missing[*]} (above)." >&2; exit 1; }
  else
    echo "picomp tests: missing ${missing[*]}; install them with: sudo apt-get install ${missing[*]}, then npm install (tests that need them are skipped or fail)." >&2
    exit 0
  fi
fi

# node_modules absent: this runs before `npm install` (.ci/run), which builds the driver itself.
if [ -d node_modules ] && ! driver_built; then
  echo "picomp tests: building the audio driver now that PortAudio is installed (npm install)" >&2
  npm install --no-audit --no-fund >&2
  driver_built || { echo "picomp tests: the audio driver (naudiodon) did not build although PortAudio is installed; see npm install above." >&2; exit 1; }
fi
