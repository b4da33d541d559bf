#!/usr/bin/env bash
# Installs the Debian packages the demo and the tests run for real:
# a registry (docker-registry), skopeo (test images and benchmark baseline),
# htpasswd (bcrypt credentials for basic auth), openssl (test CAs),
# buildah (the local builder) and busybox-static (base images with a real shell).
# Waits for the dpkg lock (another apt run, unattended upgrades) instead of failing on it.
set -euo pipefail
needed=()
command -v docker-registry >/dev/null || needed+=(docker-registry)
command -v skopeo >/dev/null || needed+=(skopeo)
command -v htpasswd >/dev/null || needed+=(apache2-utils)
command -v openssl >/dev/null || needed+=(openssl)
command -v buildah >/dev/null || needed+=(buildah)
[ -x /bin/busybox ] || needed+=(busybox-static)
command -v unshare >/dev/null || needed+=(util-linux)
[ ${#needed[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
# apt-get waits this long for a lock held by another apt or dpkg, then fails with its own message.
lock_wait=(-o DPkg::Lock::Timeout=600)
$sudo apt-get "${lock_wait[@]}" update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get "${lock_wait[@]}" install -y -qq --no-install-recommends "${needed[@]}"
