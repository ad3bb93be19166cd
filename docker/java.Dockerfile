# syntax=docker/dockerfile:1
#
# The Java peer (peers/java): its server and client, run through the peer's own `server` and
# `client` entry points (peers/README.md). Maven and the JDK stay in the build stage; the
# runtime stage has a JRE and the one shaded jar.
#
# Build with the peer's folder as the context:
#
#   docker build -f docker/java.Dockerfile --target server -t hello-websocket/java-server peers/java
#   docker build -f docker/java.Dockerfile --target client -t hello-websocket/java-client peers/java
#
# The files keep the repository's layout under / (/peers/java/...), so the peer's defaults
# that are relative to the repository root, such as the certificates folder, are /certs.

ARG JAVA_VERSION=17

FROM maven:3.9-eclipse-temurin-${JAVA_VERSION} AS build
WORKDIR /src
COPY pom.xml ./
COPY src ./src
# The local repository is a cache mount: the pinned dependencies are downloaded once.
# The tests read the repository's vectors/v1.json, which this context does not hold; CI runs them
# with peers/java/test.
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -q -Dstyle.color=never -DskipTests package

FROM eclipse-temurin:${JAVA_VERSION}-jre AS runtime
ENV LANG=C.UTF-8
# uid/gid 10001 in every image of the project: the certificate keys in a shared volume are
# mode 0600 and owned by the container that generated them.
RUN groupadd --gid 10001 hello \
    && useradd --uid 10001 --gid hello --no-log-init --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin hello \
    && mkdir /certs \
    && chown hello:hello /certs
COPY --from=build /src/target/hello-java.jar /peers/java/target/
COPY server client /peers/java/
USER 10001:10001

FROM runtime AS client
ENTRYPOINT ["/peers/java/client"]

FROM runtime AS server
ENV WS_HOST=0.0.0.0
EXPOSE 9898 9886
# The peer's own client against the plain port (WS_PORT and WS_PATH from the environment): one
# Echo request, then it stays until the first Kiss (the server's default Kiss interval is 5 s;
# raise --duration here if WS_KISS_INTERVAL is raised). A JVM starts in about a second.
HEALTHCHECK --interval=30s --timeout=15s --start-period=10s --retries=3 \
    CMD ["/peers/java/client", "--count", "1", "--duration", "6s", "--timeout", "3s", \
         "--name", "healthcheck"]
ENTRYPOINT ["/peers/java/server"]
