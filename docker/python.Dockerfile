# syntax=docker/dockerfile:1
#
# The Python peer (peers/python): its server and client, run through the peer's own `server`
# and `client` entry points (peers/README.md), which use the virtual environment .venv.
#
# Build with the peer's folder as the context:
#
#   docker build -f docker/python.Dockerfile --target server -t hello-websocket/python-server peers/python
#   docker build -f docker/python.Dockerfile --target client -t hello-websocket/python-client peers/python
#
# The files keep the repository's layout under / (/peers/python/...), so the peer's defaults
# that are relative to the repository root, such as the certificates folder, are /certs.

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LANG=C.UTF-8
# uid/gid 10001 in every image of the project: the certificate keys in a shared volume are
# mode 0600 and owned by the container that generated them.
RUN groupadd --gid 10001 hello \
    && useradd --uid 10001 --gid hello --no-log-init --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin hello \
    && mkdir /certs \
    && chown hello:hello /certs
WORKDIR /peers/python
# Only the run-time requirements (websockets, pinned); the peer's build script also installs
# the development tools of requirements-dev.txt, which a container does not need.
COPY requirements.txt ./
RUN python -m venv .venv \
    && .venv/bin/pip install --no-cache-dir --disable-pip-version-check \
        --requirement requirements.txt
COPY hello_peer ./hello_peer
COPY server client ./
WORKDIR /
USER 10001:10001

FROM runtime AS client
ENTRYPOINT ["/peers/python/client"]

FROM runtime AS server
ENV WS_HOST=0.0.0.0
EXPOSE 9898 9886
# The peer's own client against the plain port (WS_PORT and WS_PATH from the environment): one
# Echo request, then it stays until the first Kiss (the server's default Kiss interval is 5 s;
# raise --duration here if WS_KISS_INTERVAL is raised).
HEALTHCHECK --interval=30s --timeout=10s --start-period=5s --retries=3 \
    CMD ["/peers/python/client", "--count", "1", "--duration", "6s", "--timeout", "3s", \
         "--name", "healthcheck"]
ENTRYPOINT ["/peers/python/server"]
