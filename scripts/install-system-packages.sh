#!/usr/bin/env bash
# Installs the Debian packages the demo and the tests run for real:
# a registry (docker-registry), skopeo (test images and benchmark baseline),
# htpasswd (bcrypt credentials for basic auth) and openssl (test CAs).
set -euo pipefail
needed=()
command -v docker-registry >/dev/null || needed+=(docker-registry)
command -v skopeo >/dev/null || needed+=(skopeo)
command -v htpasswd >/dev/null || needed+=(apache2-utils)
command -v openssl >/dev/null || needed+=(openssl)
[ ${#needed[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${needed[@]}"
