#!/usr/bin/env bash
# Installs the Vigil agent as a hardened systemd service.
#   sudo deploy/install-agent.sh --collector HOST:PORT [--token-file FILE] [--ca FILE] [--bundle agent/dist/vigil-agent.mjs]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bundle="$here/../agent/dist/vigil-agent.mjs"
collector="" token_file="" ca=""
while [ $# -gt 0 ]; do
  case "$1" in
    --collector) collector="$2"; shift 2 ;;
    --token-file) token_file="$2"; shift 2 ;;
    --ca) ca="$2"; shift 2 ;;
    --bundle) bundle="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
command -v node >/dev/null || { echo "Node.js 20+ is required (node not found)" >&2; exit 1; }
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || { echo "Node.js 20+ is required" >&2; exit 1; }
[ -f "$bundle" ] || { echo "agent bundle $bundle not found: run 'npm run build' first" >&2; exit 1; }
[ -n "$collector" ] || { echo "--collector HOST:PORT is required" >&2; exit 2; }

install -d -m 0755 /opt/vigil /etc/vigil
install -m 0644 "$bundle" /opt/vigil/vigil-agent.mjs
if [ ! -f /etc/vigil/agent.yaml ]; then
  {
    echo "collector: $collector"
    echo "interval: 10s"
    [ -n "$ca" ] && printf 'tls:\n  ca: /etc/vigil/ca.pem\n'
  } > /etc/vigil/agent.yaml
  chmod 0644 /etc/vigil/agent.yaml
fi
# The token stays root-only (0600); systemd hands the DynamicUser a copy through LoadCredential=, which the agent
# finds in $CREDENTIALS_DIRECTORY/agent.token.
if [ -n "$token_file" ]; then
  install -m 0600 "$token_file" /etc/vigil/agent.token
  install -d -m 0755 /etc/systemd/system/vigil-agent.service.d
  printf '[Service]\nLoadCredential=agent.token:/etc/vigil/agent.token\n' > /etc/systemd/system/vigil-agent.service.d/token.conf
fi
[ -n "$ca" ] && install -m 0644 "$ca" /etc/vigil/ca.pem
node /opt/vigil/vigil-agent.mjs --check-config --config /etc/vigil/agent.yaml >/dev/null
install -m 0644 "$here/systemd/vigil-agent.service" /etc/systemd/system/vigil-agent.service
systemctl daemon-reload
systemctl enable --now vigil-agent
echo "vigil-agent installed and started; logs: journalctl -u vigil-agent -f"
