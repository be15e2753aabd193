#!/usr/bin/env bash
# set-max-nodes.sh N [DEPLOY_DIR]: lets the Kubernetes fleet grow to N ciak nodes by changing
# the three places that must agree (docs/deploy.md, "Why per-pod Services"): the ScaledObject's
# maxReplicaCount, one per-pod Service per node (ciak-0 ... ciak-N-1) and nginx's upstream list.
# deploy/tools/validate.js checks the result.
set -euo pipefail
n=${1:?usage: set-max-nodes.sh N [DEPLOY_DIR]}
dir=${2:-$(cd "$(dirname "$0")/.." && pwd)}
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "set-max-nodes: N must be a positive number" >&2; exit 2; }

so=$dir/k8s/base/scaledobject.yaml
svc=$dir/k8s/base/ciak-services.yaml
up=$dir/nginx/k8s/upstreams.conf

sed -i "s/^  maxReplicaCount: [0-9]*$/  maxReplicaCount: $n/" "$so"

# Services: keep everything up to the first per-pod Service, then write N of them.
head=$(awk '/^---$/ { exit } { print }' "$svc")
{
    printf '%s\n' "$head"
    for ((i = 0; i < n; i++)); do
        cat <<YAML
---
apiVersion: v1
kind: Service
metadata:
  name: ciak-$i
  labels:
    app.kubernetes.io/name: ciak
    app.kubernetes.io/component: node-endpoint
spec:
  selector:
    statefulset.kubernetes.io/pod-name: ciak-$i
  ports:
    - name: http
      port: 8080
      targetPort: http
YAML
    done
} >"$svc.new" && mv "$svc.new" "$svc"

# nginx: the comment lines stay, the server lines are written again.
{
    grep '^#' "$up"
    for ((i = 0; i < n; i++)); do echo "server ciak-$i:8080 max_fails=3 fail_timeout=5s;"; done
} >"$up.new" && mv "$up.new" "$up"
echo "set-max-nodes: up to $n nodes"
