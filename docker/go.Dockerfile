# syntax=docker/dockerfile:1
#
# The Go peer (peers/go): its server and client, run through the peer's own `server` and
# `client` entry points (peers/README.md).
#
# Build with the peer's folder as the context:
#
#   docker build -f docker/go.Dockerfile --target server -t hello-websocket/go-server peers/go
#   docker build -f docker/go.Dockerfile --target client -t hello-websocket/go-client peers/go
#
# --build-arg BINARIES=prebuilt takes bin/hello-server and bin/hello-client from the context
# instead of compiling them (scripts/docker-smoke.sh, on a machine without a registry); the
# context must then also hold the `server` and `client` scripts. With podman/buildah, give
# --build-arg BINARIES=source for the default too: buildah 1.28 prunes the stage that an ARG's
# default value selects.
#
# The files keep the repository's layout under / (/peers/go/bin/...), so the peer's defaults
# that are relative to the repository root, such as the certificates folder, are /certs.

ARG GO_VERSION=1.24
ARG BINARIES=source

FROM golang:${GO_VERSION}-bookworm AS source
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY cmd ./cmd
COPY internal ./internal
# Static binaries (no cgo), so the runtime image needs no particular C library.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ \
        ./cmd/hello-server ./cmd/hello-client

FROM scratch AS prebuilt
COPY bin/hello-server bin/hello-client /out/

FROM ${BINARIES} AS binaries

FROM debian:bookworm-slim AS runtime
# uid/gid 10001 in every image of the project: the certificate keys in a shared volume are
# mode 0600 and owned by the container that generated them.
RUN groupadd --gid 10001 hello \
    && useradd --uid 10001 --gid hello --no-log-init --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin hello \
    && mkdir /certs \
    && chown hello:hello /certs
COPY --from=binaries /out/hello-server /out/hello-client /peers/go/bin/
COPY server client /peers/go/
ENV LANG=C.UTF-8
USER 10001:10001

FROM runtime AS client
ENTRYPOINT ["/peers/go/client"]

FROM runtime AS server
ENV WS_HOST=0.0.0.0
EXPOSE 9898 9886
# The peer's own client against the plain port (WS_PORT and WS_PATH from the environment): one
# Echo request, then it stays until the first Kiss (the server's default Kiss interval is 5 s;
# raise --duration here if WS_KISS_INTERVAL is raised).
HEALTHCHECK --interval=30s --timeout=10s --start-period=5s --retries=3 \
    CMD ["/peers/go/client", "--count", "1", "--duration", "6s", "--timeout", "3s", \
         "--name", "healthcheck"]
ENTRYPOINT ["/peers/go/server"]
