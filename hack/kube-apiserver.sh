#!/usr/bin/env bash
# Installs what the agent's end-to-end tests need and that Go cannot vendor:
#   - kube-apiserver, built from the pinned module in hack/kube-apiserver into
#     .cache/bin/kube-apiserver (only when missing: a cold build takes ~10 min
#     on 2 cores, later builds reuse the Go build cache);
#   - etcd, from Debian's etcd-server package, when no etcd is on PATH.
# Safe to run repeatedly; `make test` runs it first. Set KUBE_APISERVER_FORCE=1
# to rebuild the binary anyway.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.cache/bin"
out="$bin/kube-apiserver"
version="v1.34.4" # keep in step with hack/kube-apiserver/go.mod

if [[ ! -x "$out" || "${KUBE_APISERVER_FORCE:-}" == 1 ]]; then
  mkdir -p "$bin"
  echo "building kube-apiserver $version into $out (cold: ~10 min on 2 cores)" >&2
  start=$(date +%s)
  (
    cd "$root/hack/kube-apiserver"
    # The version stamp makes /version report the real release instead of
    # v0.0.0-master; CGO is off like upstream's release builds.
    pkg=k8s.io/component-base/version
    CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=34 -X $pkg.gitTreeState=clean" \
      -o "$out.tmp" k8s.io/kubernetes/cmd/kube-apiserver
  )
  mv "$out.tmp" "$out"
  echo "built kube-apiserver in $(($(date +%s) - start))s" >&2
fi

if ! command -v etcd >/dev/null 2>&1 && [[ ! -x /usr/bin/etcd ]]; then
  echo "installing etcd (Debian package etcd-server)" >&2
  if [[ "$(id -u)" -ne 0 ]]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends etcd-server >/dev/null
fi
