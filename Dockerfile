# The hub for the production-like run (docker-compose.yml). Node 20 on Debian, as
# on the development machines; better-sqlite3 is built from source by npm ci.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/bohub
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
COPY bin ./bin
COPY gateway ./gateway
COPY simulators ./simulators
COPY dashboard ./dashboard
COPY devices ./devices
COPY config ./config
ENV BOHUB_HTTP_HOST=0.0.0.0 BOHUB_DATA_DIR=/var/lib/bohub
VOLUME /var/lib/bohub
EXPOSE 8080
ENTRYPOINT ["node", "bin/bohub.js"]
CMD ["start", "--config", "/opt/bohub/config/demo/building.yaml"]
