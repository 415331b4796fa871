# The hub for the production-like run (docker-compose.yml). Node 20 on Debian, as
# on the development machines.
#
# Two stages (issue 8): the control-room dashboard is bundled by Vite, a
# devDependency, into dashboard/dist. The build stage installs everything and builds
# it; the runtime stage installs the production dependencies only and takes the
# built dashboard, so neither Vite nor the dashboard's sources ship in the image.

FROM node:20-bookworm-slim AS dashboard
WORKDIR /opt/bohub
COPY package.json package-lock.json ./
# --ignore-scripts: the bundle needs no native module built (better-sqlite3 is the
# runtime's), and Vite's own native parts come as prebuilt optional packages.
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
# The dashboard imports types from gateway/ (type-only, erased by the bundler).
COPY gateway ./gateway
COPY dashboard ./dashboard
RUN npm run build

FROM node:20-bookworm-slim
# better-sqlite3 is built from source by npm ci.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/bohub
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
COPY bin ./bin
COPY gateway ./gateway
COPY simulators ./simulators
# The hub serves dashboard/dist (gateway/http/app.ts DEFAULT_DASHBOARD_DIR), the lobby page included.
COPY --from=dashboard /opt/bohub/dashboard/dist ./dashboard/dist
COPY devices ./devices
COPY config ./config
ENV BOHUB_HTTP_HOST=0.0.0.0 BOHUB_DATA_DIR=/var/lib/bohub
VOLUME /var/lib/bohub
EXPOSE 8080
ENTRYPOINT ["node", "bin/bohub.js"]
CMD ["start", "--config", "/opt/bohub/config/demo/building.yaml"]
