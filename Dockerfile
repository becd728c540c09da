# picomp unit image: audio engine + embedded MQTT broker (and, with another
# command, the Node-RED dashboard; see docker-compose.yml).
#   docker build -t picomp .
#   docker run --rm --device /dev/snd -p 1883:1883 -p 9001:9001 picomp

# ---- build: native addon (naudiodon against PortAudio) and TypeScript
FROM node:24-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libportaudio2 portaudio19-dev build-essential python3 \
 && rm -rf /var/lib/apt/lists/*
# Node 24: the active LTS (Node 20 is past its end of life). npm 11 runs
# only the dependency install scripts package.json's allowScripts lists
# (hardware/portaudio.md); the newest npm 11 has that setting for certain.
RUN npm install -g npm@11
WORKDIR /opt/picomp
# npm ci builds naudiodon against the system PortAudio through the node-gyp
# shim (.npmrc, scripts/) and prepare compiles the TypeScript, so all of
# that comes first.
COPY package.json package-lock.json tsconfig.json ./
COPY .npmrc ./
COPY scripts ./scripts
COPY patches ./patches
COPY src ./src
COPY bench ./bench
COPY test ./test
COPY flows ./flows
COPY hardware ./hardware
# The audio driver is an optional dependency (a laptop without PortAudio
# still installs); the image is for sound cards, so it must have been built.
RUN npm ci && test -f node_modules/naudiodon/build/Release/naudiodon.node \
 && npm prune --omit=dev --ignore-scripts

# ---- run: only the PortAudio runtime library, no compilers
FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libportaudio2 alsa-utils tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/picomp
COPY --from=build /opt/picomp/package.json ./
COPY --from=build /opt/picomp/node_modules ./node_modules
COPY --from=build /opt/picomp/dist/src ./dist/src
COPY --from=build /opt/picomp/flows ./flows
COPY --from=build /opt/picomp/hardware ./hardware
RUN ln -s /opt/picomp/dist/src/cli/main.js /usr/local/bin/picomp && chmod +x dist/src/cli/main.js \
 && mkdir -p /var/lib/picomp && chown node:node /var/lib/picomp
# `audio` lets the node user open /dev/snd; the gid matches Debian and Raspberry Pi OS (29).
RUN usermod -aG audio node
USER node
ENV NODE_ENV=production PICOMP_STATE_DIR=/var/lib/picomp
VOLUME /var/lib/picomp
EXPOSE 1883 9001 1880
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["picomp", "start"]
