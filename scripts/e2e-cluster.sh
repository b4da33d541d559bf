#!/usr/bin/env bash
# Set up a local kind cluster for the real-cluster end-to-end suite (tests/e2e, pytest marker `cluster`).
#
# Needs: docker, kind (v0.27+), kubectl, and internet access (Argo's release manifest, the kaniko image
# from ghcr.io, Docker Hub through the pull-through mirror). Idempotent: re-running reuses what exists.
#
#   bash scripts/e2e-cluster.sh            # create everything, print the variables for pytest
#   bash scripts/e2e-cluster.sh --delete   # remove the cluster and the registry containers
#
# What it creates:
#   kind cluster  $CLUSTER (context kind-$CLUSTER)
#   Argo Workflows $ARGO_VERSION (quick-start-minimal: controller, server, MinIO artifact repository)
#   kind-registry  registry:2 on the kind network, kind-registry:5000 in the cluster, 127.0.0.1:5001 here:
#                  where builds push; the nodes pull from it over plain HTTP (containerd hosts.toml)
#   kind-mirror    registry:2 as a pull-through cache of Docker Hub, kind-mirror:5000 / 127.0.0.1:5002
#   the runtime image (images/runtime/Dockerfile) built and loaded into the nodes as $RUNTIME_IMAGE
#   PVC e2e-context in $NAMESPACE holding app/Dockerfile, the build context of the suite
set -euo pipefail

CLUSTER=${CLUSTER:-hera-imagebuild-e2e}
ARGO_VERSION=${ARGO_VERSION:-v4.0.9}
NAMESPACE=${NAMESPACE:-argo}
REGISTRY_IMAGE=${REGISTRY_IMAGE:-registry:2.8.3}
RUNTIME_IMAGE=${RUNTIME_IMAGE:-hera-imagebuild-runtime:e2e}
REGISTRY_PORT=${REGISTRY_PORT:-5001}
MIRROR_PORT=${MIRROR_PORT:-5002}
WAIT=${WAIT:-300s}
REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONTEXT="kind-${CLUSTER}"

say() { printf '==> %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null || { echo "error: $1 is required (see docs/cluster.md)" >&2; exit 1; }; }
kc() { kubectl --context "$CONTEXT" "$@"; }

need docker
need kind
need kubectl

if [[ "${1:-}" == "--delete" ]]; then
  kind delete cluster --name "$CLUSTER" || true
  docker rm -f kind-registry kind-mirror >/dev/null 2>&1 || true
  exit 0
fi

run_registry() {  # name host-port [extra docker args...]
  local name=$1 port=$2
  shift 2
  if [[ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null || true)" != "true" ]]; then
    docker rm -f "$name" >/dev/null 2>&1 || true
    say "starting $name on 127.0.0.1:$port"
    docker run -d --restart=always -p "127.0.0.1:${port}:5000" --name "$name" "$@" "$REGISTRY_IMAGE" >/dev/null
  fi
}

# 1. Registries: one to push to, one pull-through mirror of Docker Hub.
run_registry kind-registry "$REGISTRY_PORT"
run_registry kind-mirror "$MIRROR_PORT" -e REGISTRY_PROXY_REMOTEURL=https://registry-1.docker.io

# 2. The cluster. kind v0.27+ node images read /etc/containerd/certs.d (hosts.toml) already.
if ! kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  say "creating kind cluster $CLUSTER"
  kind create cluster --name "$CLUSTER" --wait 120s
fi

# 3. Let the nodes pull from the registries over plain HTTP, by the names pods use.
for node in $(kind get nodes --name "$CLUSTER"); do
  for registry in kind-registry kind-mirror; do
    docker exec "$node" mkdir -p "/etc/containerd/certs.d/${registry}:5000"
    printf '[host."http://%s:5000"]\n' "$registry" |
      docker exec -i "$node" cp /dev/stdin "/etc/containerd/certs.d/${registry}:5000/hosts.toml"
  done
done
for registry in kind-registry kind-mirror; do
  if [[ "$(docker inspect -f '{{json .NetworkSettings.Networks.kind}}' "$registry")" == "null" ]]; then
    docker network connect kind "$registry"
  fi
done

# 4. Argo Workflows. From v4.0 the CRDs carry full validation and need server-side apply.
say "installing Argo Workflows $ARGO_VERSION"
kc create namespace argo --dry-run=client -o yaml | kc apply -f -
kc apply --server-side --force-conflicts -n argo \
  -f "https://github.com/argoproj/argo-workflows/releases/download/${ARGO_VERSION}/quick-start-minimal.yaml"
kc -n argo rollout status deployment/workflow-controller --timeout "$WAIT"
kc -n argo rollout status deployment/argo-server --timeout "$WAIT"
kc -n argo rollout status deployment/minio --timeout "$WAIT"
kc create namespace "$NAMESPACE" --dry-run=client -o yaml | kc apply -f -

# 5. The runtime image of the prefetch and push steps, loaded into the nodes (no registry needed).
say "building $RUNTIME_IMAGE"
docker build -q -f "$REPO_ROOT/images/runtime/Dockerfile" -t "$RUNTIME_IMAGE" "$REPO_ROOT" >/dev/null
kind load docker-image --name "$CLUSTER" "$RUNTIME_IMAGE"

# 6. The build context the suite builds: a PVC with app/Dockerfile, written by a one-off pod.
say "writing the build context to PVC e2e-context"
kc -n "$NAMESPACE" apply -f - <<'EOF'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: e2e-context}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
EOF
kc -n "$NAMESPACE" delete pod e2e-context-writer --ignore-not-found --wait=true
kc -n "$NAMESPACE" apply -f - <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: e2e-context-writer}
spec:
  restartPolicy: Never
  containers:
    - name: write
      image: busybox:1.36
      command: [sh, -c]
      args:
        - |
          mkdir -p /ctx/app && cat > /ctx/app/Dockerfile <<'DOCKERFILE'
          FROM busybox:1.36
          ARG GREETING=hello
          RUN echo "$GREETING from hera-imagebuild e2e" > /greeting.txt
          CMD ["cat", "/greeting.txt"]
          DOCKERFILE
      volumeMounts: [{name: ctx, mountPath: /ctx}]
  volumes: [{name: ctx, persistentVolumeClaim: {claimName: e2e-context}}]
EOF
kc -n "$NAMESPACE" wait pod/e2e-context-writer --for=jsonpath='{.status.phase}'=Succeeded --timeout "$WAIT"

cat <<EOF
# The cluster is ready. Run the suite with:
export HERA_IMAGEBUILD_E2E_KUBECONTEXT=${CONTEXT}
export HERA_IMAGEBUILD_E2E_NAMESPACE=${NAMESPACE}
export HERA_IMAGEBUILD_E2E_RUNTIME_IMAGE=${RUNTIME_IMAGE}
export HERA_IMAGEBUILD_E2E_REGISTRY=kind-registry:5000 HERA_IMAGEBUILD_E2E_REGISTRY_URL=http://127.0.0.1:${REGISTRY_PORT}
export HERA_IMAGEBUILD_E2E_MIRROR=kind-mirror:5000 HERA_IMAGEBUILD_E2E_MIRROR_URL=http://127.0.0.1:${MIRROR_PORT}
pytest -m cluster tests/e2e
EOF
