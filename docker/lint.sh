#!/usr/bin/env bash
# Lints the docker/ folder: hadolint on every Dockerfile (no rule ignored: a finding fails),
# and docker/compose.yaml parsed and resolved by podman-compose, with a check that every
# service's build context, Dockerfile and target exist.
#
# The tools are the pinned ones of docker/requirements-lint.txt, installed from PyPI into a
# virtual environment under ${XDG_CACHE_HOME:-~/.cache}/hello-websocket (reused while the
# requirements are unchanged). Needs Python 3.9 or later. Prints one line per check, then
# `N passed, N failed`; exit status 1 on any failure.
set -euo pipefail

docker_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$docker_dir")
cache=${XDG_CACHE_HOME:-$HOME/.cache}/hello-websocket
venv=$cache/docker-lint-venv
python=${PYTHON:-python3}

# The virtual environment, made anew when the pinned requirements change.
stamp=$venv/requirements-lint.txt
if ! cmp -s "$docker_dir/requirements-lint.txt" "$stamp" 2>/dev/null || ! "$venv/bin/python" -c '' 2>/dev/null; then
    rm -rf "$venv"
    mkdir -p "$cache"
    "$python" -m venv "$venv"
    timeout 600 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --requirement "$docker_dir/requirements-lint.txt"
    cp "$docker_dir/requirements-lint.txt" "$stamp"
fi

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok    $*"; }
fail() { failed=$((failed + 1)); echo "FAIL  $*"; }

"$venv/bin/hadolint" --version
shopt -s nullglob
for dockerfile in "$docker_dir"/Dockerfile "$docker_dir"/*.Dockerfile; do
    name=docker/$(basename "$dockerfile")
    if output=$("$venv/bin/hadolint" --no-color "$dockerfile" 2>&1); then
        pass "hadolint $name"
    else
        fail "hadolint $name"
        printf '%s\n' "$output" | sed 's/^/      /'
    fi
done

# podman-compose only reads the file here: `config` needs no container engine.
if resolved=$(cd "$repo" && timeout 60 "$venv/bin/podman-compose" -f docker/compose.yaml config 2>&1); then
    pass "podman-compose config docker/compose.yaml"
else
    fail "podman-compose config docker/compose.yaml"
    printf '%s\n' "$resolved" | sed 's/^/      /'
fi

# What podman-compose does not check: that each build points at a real context, Dockerfile and
# stage, that every depends_on names a service, and that every client has a way to its server.
# PyYAML comes with podman-compose.
if output=$("$venv/bin/python" - "$repo/docker/compose.yaml" <<'PY' 2>&1
import os, re, sys
import yaml

path = sys.argv[1]
base = os.path.dirname(path)
with open(path) as f:
    doc = yaml.safe_load(f)
problems = []
services = doc.get("services") or {}
if not services:
    problems.append("no services")
for name, service in services.items():
    build = service.get("build")
    if build:
        context = os.path.normpath(os.path.join(base, build["context"]))
        dockerfile = os.path.normpath(os.path.join(context, build.get("dockerfile", "Dockerfile")))
        if not os.path.isdir(context):
            problems.append(f"{name}: no context {context}")
        if not os.path.isfile(dockerfile):
            problems.append(f"{name}: no Dockerfile {dockerfile}")
        else:
            with open(dockerfile) as f:
                stages = re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", f.read(), re.M | re.I)
            if build.get("target") and build["target"] not in stages:
                problems.append(f"{name}: no stage {build['target']} in {dockerfile}")
    if not service.get("image"):
        problems.append(f"{name}: no image name")
    for dependency in service.get("depends_on") or {}:
        if dependency not in services:
            problems.append(f"{name}: depends on unknown service {dependency}")
for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
PY
); then
    pass "compose.yaml builds, stages and dependencies"
else
    fail "compose.yaml builds, stages and dependencies"
    printf '%s\n' "$output" | sed 's/^/      /'
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
