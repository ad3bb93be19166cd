# syntax=docker/dockerfile:1
#
# The Node.js peer (peers/node): its server and client, run through the peer's own `server` and
# `client` entry points (peers/README.md).
#
# Build with the peer's folder as the context:
#
#   docker build -f docker/node.Dockerfile --target server -t hello-websocket/node-server peers/node
#   docker build -f docker/node.Dockerfile --target client -t hello-websocket/node-client peers/node
#
# The files keep the repository's layout under / (/peers/node/...), so the peer's defaults
# that are relative to the repository root, such as the certificates folder, are /certs.

ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-slim AS runtime
ENV NODE_ENV=production \
    LANG=C.UTF-8
# uid/gid 10001 in every image of the project: the certificate keys in a shared volume are
# mode 0600 and owned by the container that generated them.
RUN groupadd --gid 10001 hello \
    && useradd --uid 10001 --gid hello --no-log-init --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin hello \
    && mkdir /certs \
    && chown hello:hello /certs
WORKDIR /peers/node
# The exact versions of package-lock.json, without the development tools (prettier).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error \
    && npm cache clean --force
COPY src ./src
COPY server client ./
WORKDIR /
USER 10001:10001

FROM runtime AS client
ENTRYPOINT ["/peers/node/client"]

FROM runtime AS server
ENV WS_HOST=0.0.0.0
EXPOSE 9898 9886
# The peer's own client against the plain port (WS_PORT and WS_PATH from the environment): one
# Echo request, then it stays until the first Kiss (the server's default Kiss interval is 5 s;
# raise --duration here if WS_KISS_INTERVAL is raised).
HEALTHCHECK --interval=30s --timeout=10s --start-period=5s --retries=3 \
    CMD ["/peers/node/client", "--count", "1", "--duration", "6s", "--timeout", "3s", \
         "--name", "healthcheck"]
ENTRYPOINT ["/peers/node/server"]
