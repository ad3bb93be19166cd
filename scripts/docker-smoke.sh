#!/usr/bin/env bash
# The docker images, built and run for real on a machine without an image registry or a Docker
# daemon: podman and buildah from Debian's packages, a debian:bookworm-slim base image made
# locally with debootstrap, and the runtime stages of docker/Dockerfile (and docker/go.Dockerfile)
# fed with binaries built on this host (--build-arg BINARIES=prebuilt).
#
#   bash scripts/docker-smoke.sh
#
# It lints docker/ (docker/lint.sh), builds hello-server and hello-client (cargo, release) and
# the Go peer (when `go` is here), builds the images, then on a private podman network: makes
# the certificates into a volume, starts the Rust server (ws and wss) and the Go server, checks
# both HEALTHCHECKs, runs the Rust client over ws and wss and the Go client over wss against
# the Rust server and the Rust client over wss against the Go server, checks each client's exit
# status and the servers' logs, and stops the servers (exit status 0 on SIGTERM). Prints one
# line per check, then `N passed, N failed`; exit status 1 on any failure.
#
# What it needs, and installs when missing (as root, with apt-get, unattended): podman,
# buildah, debootstrap, runc. The base image is made once (about a minute) and kept in podman's
# storage as debian:bookworm-slim; a real one, pulled by a user with a registry, is used as is.
#
# Environment:
#   SMOKE_LINT=0           skip docker/lint.sh (it needs PyPI the first time)
#   SMOKE_GO=0             skip the Go peer's images (default: when `go` is installed)
#   SMOKE_KEEP=1           keep the containers, network and volume after the run
#   DEBIAN_MIRROR=URL      the mirror debootstrap uses (default: the one apt uses on this host)
#   SMOKE_STORAGE_DRIVER   podman's storage driver (default: podman's own choice; vfs when
#                          that does not work here)
#   CARGO_TARGET_DIR       where cargo puts the binaries (default: target/)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

start_time=$SECONDS
passed=0
failed=0
pass() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }
indent() { sed 's/^/      /'; }
step() { printf -- '--    %s (%ds)\n' "$*" $((SECONDS - start_time)); }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Everything the run makes is named after it, and removed when it ends, failed or not.
run_id=hello-smoke-$$
work=$(mktemp -d "${TMPDIR:-/tmp}/$run_id.XXXXXX")
podman_log=$work/podman.log
containers=()
podman=(podman --runtime runc)
cleanup() {
    local status=$?
    if [[ ${SMOKE_KEEP:-0} == 1 ]]; then
        echo "kept: containers ${containers[*]:-none}, network $run_id, volume $run_id-certs, files $work"
        return
    fi
    if ((${#containers[@]})) || [[ -n ${network_made:-} ]]; then
        for container in "${containers[@]}"; do
            timeout 30 "${podman[@]}" rm --force --time 2 "$container" >/dev/null 2>&1 || true
        done
        timeout 30 "${podman[@]}" network rm --force "$run_id" >/dev/null 2>&1 || true
        timeout 30 "${podman[@]}" volume rm --force "$run_id-certs" >/dev/null 2>&1 || true
    fi
    if [[ $status -ne 0 ]]; then
        if [[ -s $podman_log ]]; then
            echo "podman's messages (the last 40 lines of $podman_log):" >&2
            tail -n 40 "$podman_log" >&2
        fi
        echo "the logs of this run are kept in $work" >&2
        return
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
# Tools

need_packages=()
for tool in podman:podman buildah:buildah debootstrap:debootstrap runc:runc; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || need_packages+=("${tool#*:}")
done
if ((${#need_packages[@]})); then
    [[ $(id -u) -eq 0 ]] || die "missing ${need_packages[*]}: install them (apt-get install ${need_packages[*]}) or run as root"
    command -v apt-get >/dev/null || die "missing ${need_packages[*]}, and no apt-get to install them"
    step "installing ${need_packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! { timeout 600 apt-get update -qq &&
        timeout 900 apt-get install -y -qq --no-install-recommends \
            "${need_packages[@]}" containernetworking-plugins netavark aardvark-dns \
            iptables uidmap; } >"$work/apt.log" 2>&1; then
        tail -n 20 "$work/apt.log" >&2
        die "apt-get could not install ${need_packages[*]}"
    fi
fi
[[ $(id -u) -eq 0 ]] || die "run as root: the containers use podman's rootful networking"

# podman with the runc runtime. The storage driver is podman's default (overlay) unless that
# fails here, when a separate vfs store under the cache is used.
cache=${XDG_CACHE_HOME:-$HOME/.cache}/hello-websocket
if [[ -n ${SMOKE_STORAGE_DRIVER:-} ]]; then
    podman+=(--storage-driver "$SMOKE_STORAGE_DRIVER")
elif ! timeout 60 "${podman[@]}" info >/dev/null 2>&1; then
    podman+=(--storage-driver vfs --root "$cache/containers-vfs")
fi
timeout 60 "${podman[@]}" info >/dev/null || die "podman does not work here: ${podman[*]} info"

# podman prints notices a run here cannot avoid (no syslog, no systemd for health check timers):
# pm sends them to a log, shown when the run fails; pm_out leaves the output to its caller
# (containers' own output, builds).
pm() { timeout "${PM_TIMEOUT:-120}" "${podman[@]}" "$@" 2>>"$podman_log"; }
pm_out() { timeout "${PM_TIMEOUT:-120}" "${podman[@]}" "$@"; }
logs() { pm_out logs "$1" 2>&1; }

# Where this machine has no CAP_SYS_RESOURCE, runc cannot raise the containers' limits to
# podman's defaults (nofile and nproc of about a million): ask for what the host has.
nofile=$(ulimit -Hn)
[[ $nofile == unlimited || $nofile -gt 1048576 ]] && nofile=1048576
limits=(--ulimit "nofile=$nofile:$nofile" --ulimit nproc=4096:4096)

# ---------------------------------------------------------------------------------------------
# Lint

if [[ ${SMOKE_LINT:-1} != 0 ]]; then
    step "linting docker/"
    if lint_output=$(bash docker/lint.sh 2>&1); then
        pass "docker/lint.sh: $(tail -n 1 <<<"$lint_output")"
    else
        fail "docker/lint.sh"
        indent <<<"$lint_output"
    fi
fi

# ---------------------------------------------------------------------------------------------
# Binaries from this host

step "building hello-server and hello-client (cargo, release)"
command -v cargo >/dev/null || die "cargo is not installed (see README.md)"
timeout 1800 cargo build --release --locked --quiet -p hello-server -p hello-client
target_dir=${CARGO_TARGET_DIR:-$repo/target}
rust_context=$work/rust-context
mkdir -p "$rust_context/bin"
for binary in hello-server hello-client; do
    cp "$target_dir/release/$binary" "$rust_context/bin/"
done
# The release profile keeps line tables for backtraces; the image does without them (the
# Dockerfile's own build does the same with CARGO_PROFILE_RELEASE_STRIP).
if command -v strip >/dev/null; then
    strip "$rust_context"/bin/*
fi

with_go=0
if [[ ${SMOKE_GO:-auto} != 0 ]] && command -v go >/dev/null; then
    with_go=1
elif [[ ${SMOKE_GO:-auto} == 1 ]]; then
    die "SMOKE_GO=1 but go is not installed"
fi
if ((with_go)); then
    step "building the Go peer (static, as in docker/go.Dockerfile)"
    go_context=$work/go-context
    mkdir -p "$go_context/bin"
    (cd peers/go && CGO_ENABLED=0 timeout 900 go build -trimpath -ldflags="-s -w" \
        -o "$go_context/bin/" ./cmd/hello-server ./cmd/hello-client)
    cp peers/go/server peers/go/client "$go_context/"
fi

# ---------------------------------------------------------------------------------------------
# The base image: debian:bookworm-slim, made here when no real one is in podman's storage

base=docker.io/library/debian:bookworm-slim
if pm image exists "$base"; then
    step "base image $base: in podman's storage"
else
    [[ -r /usr/share/keyrings/debian-archive-keyring.gpg ]] ||
        die "no Debian archive keyring to check what debootstrap downloads (apt-get install debian-archive-keyring)"
    mirror=${DEBIAN_MIRROR:-}
    if [[ -z $mirror ]]; then
        # The mirror apt uses here: a deb822 source with the bookworm suite, or a one-line one.
        mirror=$(awk '
            /^URIs:/ { uri = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") found = uri }
            /^$/ { uri = "" }
            END { print found }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    fi
    if [[ -z $mirror ]]; then
        mirror=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' \
            /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
    fi
    if [[ -n ${DEBIAN_MIRROR:-} ]]; then
        mirror_source="DEBIAN_MIRROR"
    elif [[ -n $mirror ]]; then
        mirror_source="the mirror apt uses here"
    else
        mirror_source="the default mirror of debootstrap"
    fi
    step "base image $base: debootstrap --variant=minbase bookworm, from $mirror_source"
    rootfs=$work/rootfs
    if ! timeout 900 debootstrap --variant=minbase bookworm "$rootfs" ${mirror:+"$mirror"} \
        >"$work/debootstrap.log" 2>&1; then
        tail -n 20 "$work/debootstrap.log" >&2
        die "debootstrap failed"
    fi
    # Slim as the official image is: no package lists, caches, documentation or translations.
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
        "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/usr/share/doc/* \
        "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
        "$rootfs"/var/log/*.log
    tar --numeric-owner -C "$rootfs" -c . |
        pm import \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'LABEL org.opencontainers.image.description=debian:bookworm-slim stand-in made by scripts/docker-smoke.sh with debootstrap' \
            --change 'CMD ["bash"]' \
            - "$base" >/dev/null
    rm -rf "$rootfs"
fi

# The binaries link the host's glibc dynamically: they run on the base image only when its
# glibc is not older than the one they were linked against.
host_glibc=$(getconf GNU_LIBC_VERSION | awk '{ print $2 }')
base_glibc=$(pm run --rm "${limits[@]}" --network none --entrypoint getconf "$base" GNU_LIBC_VERSION |
    awk '{ print $2 }')
if [[ $(printf '%s\n%s\n' "$host_glibc" "$base_glibc" | sort -V | head -n 1) == "$host_glibc" ]]; then
    pass "glibc: host $host_glibc, base image $base_glibc"
else
    fail "glibc: host $host_glibc is newer than the base image's $base_glibc (build on bookworm)"
fi

# ---------------------------------------------------------------------------------------------
# Images

build() { # build DOCKERFILE TARGET TAG CONTEXT
    if PM_TIMEOUT=600 pm_out build --isolation=chroot --pull=never --format docker \
        --build-arg BINARIES=prebuilt -f "$1" --target "$2" -t "$3" "$4" >>"$work/build.log" 2>&1; then
        local size
        size=$(pm image inspect --format '{{.Size}}' "$3")
        pass "image $3 ($(basename "$1") --target $2, $((size / 1000000)) MB)"
    else
        fail "image $3"
        tail -n 20 "$work/build.log"
        exit 1
    fi
}
step "building images (podman build --isolation=chroot --build-arg BINARIES=prebuilt)"
server_image=localhost/hello-websocket/server:smoke
client_image=localhost/hello-websocket/client:smoke
build docker/Dockerfile server "$server_image" "$rust_context"
build docker/Dockerfile client "$client_image" "$rust_context"
if ((with_go)); then
    go_server_image=localhost/hello-websocket/go-server:smoke
    go_client_image=localhost/hello-websocket/go-client:smoke
    build docker/go.Dockerfile server "$go_server_image" "$go_context"
    build docker/go.Dockerfile client "$go_client_image" "$go_context"
fi

user=$(pm image inspect --format '{{.Config.User}}' "$server_image")
if [[ $user == 10001:10001 ]]; then
    pass "server image runs as $user (not root)"
else
    fail "server image user is '$user', not 10001:10001"
fi
health=$(pm image inspect --format '{{json .Config.Healthcheck.Test}}' "$server_image")
if [[ $health == *hello-client* ]]; then
    pass "server image has a HEALTHCHECK: $health"
else
    fail "server image has no HEALTHCHECK ($health)"
fi
# shellcheck disable=SC2016 # the container's shell expands $tool
compilers=$(pm run --rm "${limits[@]}" --network none --entrypoint /bin/sh "$server_image" -c \
    'for tool in cc gcc c++ clang ld rustc cargo go javac; do command -v "$tool"; done; true')
if [[ -z $compilers ]]; then
    pass "no compiler or linker in the runtime image"
else
    fail "the runtime image has $(tr '\n' ' ' <<<"$compilers")"
fi

# ---------------------------------------------------------------------------------------------
# The demo, on a private network with no way out

step "network $run_id (internal), volume $run_id-certs, certificates"
network_made=1
pm network create --internal "$run_id" >/dev/null
pm volume create "$run_id-certs" >/dev/null
net=(--network "$run_id")
certs_rw=(--volume "$run_id-certs:/certs")
certs_ro=(--volume "$run_id-certs:/certs:ro")

containers+=("$run_id-certs")
if pm_out run --name "$run_id-certs" "${limits[@]}" "${net[@]}" "${certs_rw[@]}" "$server_image" \
    gen-certs --certs-dir /certs --san server --san go-server >"$work/certs.log" 2>&1; then
    pass "gen-certs into the volume ($(grep -c 'certificate file written' "$work/certs.log") files)"
else
    fail "gen-certs into the volume"
    cat "$work/certs.log"
    exit 1
fi

# Waits until a container's log has a line matching a pattern, for at most SECONDS seconds.
wait_for_log() { # wait_for_log CONTAINER PATTERN SECONDS
    local deadline=$((SECONDS + $3))
    while ((SECONDS < deadline)); do
        if logs "$1" | grep -E "$2" >/dev/null; then
            return 0
        fi
        if [[ $(pm inspect --format '{{.State.Running}}' "$1") != true ]]; then
            return 1
        fi
        sleep 0.2
    done
    return 1
}

step "starting the servers"
server=$run_id-server
containers+=("$server")
# The certificates are read-only for the server: gen-certs made them, the server only reads.
pm run --detach --name "$server" --network-alias server "${limits[@]}" "${net[@]}" \
    "${certs_ro[@]}" --env WS_TLS=true "$server_image" >/dev/null
if ((with_go)); then
    go_server=$run_id-go-server
    containers+=("$go_server")
    pm run --detach --name "$go_server" --network-alias go-server "${limits[@]}" "${net[@]}" \
        "${certs_ro[@]}" "$go_server_image" --tls --certs-dir /certs >/dev/null
fi

if wait_for_log "$server" 'listening on wss://0\.0\.0\.0:9886/ws' 30 &&
    logs "$server" | grep 'listening on ws://0\.0\.0\.0:9898/ws' >/dev/null; then
    pass "rust server: listening on ws://0.0.0.0:9898/ws and wss://0.0.0.0:9886/ws"
else
    fail "rust server did not start"
    logs "$server" | tail -n 20
    exit 1
fi
# The image's HEALTHCHECK, run by hand: podman's timers need systemd, which is not here.
if pm healthcheck run "$server" >/dev/null; then
    pass "rust server: HEALTHCHECK passes ($(pm inspect --format '{{.State.Health.Status}}' "$server"))"
else
    fail "rust server: HEALTHCHECK fails"
fi
if ((with_go)); then
    # Go's listener on the unspecified address reports itself as [::] (both IPv4 and IPv6).
    if wait_for_log "$go_server" 'listening on wss://(0\.0\.0\.0|\[::\]):9886/ws' 30; then
        pass "go server: $(logs "$go_server" | grep -E '^listening on' | tr '\n' ' ')"
    else
        fail "go server did not start"
        logs "$go_server" | tail -n 20
    fi
    if PM_TIMEOUT=30 pm healthcheck run "$go_server" >/dev/null; then
        pass "go server: HEALTHCHECK passes"
    else
        fail "go server: HEALTHCHECK fails"
    fi
fi

# The clients find the servers by name. The network's name server (aardvark) was seen to answer
# "temporary failure in name resolution" while several containers joined at once, so the names
# are pinned in each client's /etc/hosts to the addresses the servers really have.
address_of() {
    pm inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"
}
hosts=(--add-host "server:$(address_of "$server")")
((with_go)) && hosts+=(--add-host "go-server:$(address_of "$go_server")")

# The clients, all at once; each stays 6 s, long enough for a Kiss (every 5 s).
step "running the clients"
client_names=()
client_pids=()
client() { # client NAME IMAGE [podman run options --] client flags...
    local name=$1 image=$2
    shift 2
    local options=()
    while [[ $1 != -- ]]; do
        options+=("$1")
        shift
    done
    shift
    containers+=("$run_id-$name")
    PM_TIMEOUT=60 pm_out run --name "$run_id-$name" "${limits[@]}" "${net[@]}" "${hosts[@]}" "${certs_ro[@]}" \
        "${options[@]}" "$image" --name "$name" --count 3 --duration 6s "$@" \
        >"$work/$name.log" 2>&1 &
    client_names+=("$name")
    client_pids+=($!)
}
# The Rust client over ws finds its server through WS_SERVER, WS_PORT and WS_PATH alone.
client rust-ws "$client_image" --env WS_SERVER=server --env WS_PORT=9898 --env WS_PATH=/ws --
client rust-wss "$client_image" -- --url wss://server:9886/ws --ca /certs/ca.crt
if ((with_go)); then
    client go-wss "$go_client_image" -- --url wss://server:9886/ws --ca /certs/ca.crt
    client rust-to-go "$client_image" -- --url wss://go-server:9886/ws --ca /certs/ca.crt
fi
for i in "${!client_names[@]}"; do
    name=${client_names[$i]}
    if wait "${client_pids[$i]}"; then
        pass "client $name: exit status 0"
    else
        fail "client $name: exit status $?"
        tail -n 20 "$work/$name.log"
    fi
done

# What the servers logged about each client: its session opened, a Kiss answered, a clean close.
check_sessions() { # check_sessions SERVER-CONTAINER LABEL CLIENT-NAME...
    local container=$1 label=$2 log
    shift 2
    log=$(logs "$container")
    for name in "$@"; do
        if grep -qE "session\+ id=[0-9a-f-]+ name=\"$name\" peer=" <<<"$log" &&
            grep -qE "kiss id=[0-9a-f-]+ name=\"$name\" " <<<"$log" &&
            grep -qE "session- id=[0-9a-f-]+ name=\"$name\" reason=client closed" <<<"$log"; then
            pass "$label log: session+, kiss, session- reason=client closed for $name"
        else
            fail "$label log: no session+/kiss/session- reason=client closed for $name"
            grep -F "name=\"$name\"" <<<"$log" | indent
        fi
    done
}
if ((with_go)); then
    check_sessions "$server" "rust server" rust-ws rust-wss go-wss
    check_sessions "$go_server" "go server" rust-to-go
else
    check_sessions "$server" "rust server" rust-ws rust-wss
fi
if logs "$server" | grep -E 'session\+ .*name="rust-wss" .*tls=true' >/dev/null; then
    pass "rust server log: the wss session is marked tls=true"
else
    fail "rust server log: the wss session is not marked tls=true"
fi

# SIGTERM, as `docker stop` sends it: the server closes its sessions and exits 0.
step "stopping the servers"
stopped=("$server")
((with_go)) && stopped+=("$go_server")
for container in "${stopped[@]}"; do
    pm stop --time 10 "$container" >/dev/null
    status=$(pm inspect --format '{{.State.ExitCode}}' "$container")
    if [[ $status == 0 ]]; then
        pass "${container#"$run_id-"}: exit status 0 on SIGTERM"
    else
        fail "${container#"$run_id-"}: exit status $status on SIGTERM"
    fi
done

echo "docker smoke test: $((SECONDS - start_time)) s"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
