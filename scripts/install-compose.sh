#!/usr/bin/env bash
# Installs the Docker Compose v2 CLI plugin (built from the Go module proxy) when `docker compose` is
# missing, so that `docker compose config` can validate docker-compose.yml on machines without Docker.
set -euo pipefail
version=v2.32.4
plugin_dir="$HOME/.docker/cli-plugins"
if docker compose version >/dev/null 2>&1 || [ -x "$plugin_dir/docker-compose" ]; then
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "install-compose: neither docker compose nor Go is available; skipping" >&2
  exit 0
fi
cache="${K2_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/k2}/compose-$version"
if [ ! -x "$cache/cmd" ]; then
  echo "install-compose: building docker compose $version from the Go module proxy (first run only, a few minutes)"
  GOBIN="$cache" go install "github.com/docker/compose/v2/cmd@$version"
fi
mkdir -p "$plugin_dir"
ln -sf "$cache/cmd" "$plugin_dir/docker-compose"
