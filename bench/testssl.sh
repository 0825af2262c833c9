#!/usr/bin/env bash
#
# bench/testssl.sh - TLS configuration audit: testssl.sh (Debian's `testssl`) against `eddy serve`
#                    over HTTPS, beside Kestrel (bench/peers/KestrelMinimal, UseHttps) and nginx
#                    (Debian's, bench/peers/nginx/nginx-tls.conf.in), all with the same certificate.
#
# WHAT IT DOES
#   Makes one self-signed certificate (openssl, ECDSA P-256, localhost and 127.0.0.1, 365 days), starts
#   each server on 127.0.0.1 with it, runs
#     testssl --quiet --color 0 --warnings batch --openssl-timeout 5 --jsonfile FILE https://127.0.0.1:PORT
#   and summarises each server's findings: the count per severity, every finding of severity MEDIUM or
#   above, and which protocol versions are offered. Findings about the self-signed test certificate
#   (ids cert_*: chain of trust, revocation, expiry) are listed apart: they judge the certificate, not
#   the server. A full testssl run takes several minutes per server; the servers run one at a time.
#
# HOW TO RUN
#   bench/testssl.sh                     # eddy, kestrel, nginx; about 25 minutes
#   SERVERS=eddy bench/testssl.sh        # one server
#   EDDY=/path/to/eddy bench/testssl.sh  # a prebuilt eddy, no build
#
# OUTPUT
#   Markdown on stdout, also saved as bench/results/testssl-<date>.md, with testssl's full output and
#   JSON in bench/results/testssl-<date>-raw/.
#
# REQUIRES
#   testssl (apt-get install -y testssl.sh), openssl, nginx (apt-get install -y nginx-light), dotnet,
#   curl, python3.
#
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
SERVERS=${SERVERS:-"eddy kestrel nginx"}
PORT=${PORT:-9601}
BIN=$BENCH/bin
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$BENCH/results
REPORT=$RESULTS/testssl-$STAMP.md
RAW=$RESULTS/testssl-$STAMP-raw

SCRIPT=testssl.sh
# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"

for tool in testssl openssl curl python3 dotnet; do
  command -v "$tool" >/dev/null || die "'$tool' not found"
done
for s in $SERVERS; do
  case $s in eddy|kestrel) ;; nginx) command -v nginx >/dev/null || die "'nginx' not found";;
    *) die "unknown server '$s' in SERVERS (use eddy, kestrel, nginx)";; esac
done
port_in_use "$PORT" && die "port $PORT is in use; set PORT=<free port>"

mkdir -p "$RAW/tls"
CERT=$RAW/tls/cert.pem
KEY=$RAW/tls/key.pem
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$KEY" -out "$CERT" 2>"$RAW/tls/openssl.log" ||
  die "openssl could not make the certificate (see $RAW/tls/openssl.log)"

[[ " $SERVERS " == *" eddy "* ]] && build_eddy
if [[ " $SERVERS " == *" kestrel "* ]]; then
  log "building KestrelMinimal (Release)"
  dotnet build -c Release --nologo -v quiet "$BENCH/peers/KestrelMinimal" -o "$BIN/kestrel-minimal" >&2
fi

SERVER_PID=
stop_server() {
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
trap stop_server EXIT

start() {
  local s=$1 out=$RAW/server-$1.log
  case $s in
    eddy)    "$EDDY" serve --port "$PORT" --loops 1 --tls-cert "$CERT" --tls-key "$KEY" >"$out" 2>&1 & ;;
    kestrel) KESTREL_TLS_CERT=$CERT KESTREL_TLS_KEY=$KEY "$BIN/kestrel-minimal/KestrelMinimal" "$PORT" >"$out" 2>&1 & ;;
    nginx)   mkdir -p "$RAW/nginx/tmp"
             sed -e "s|@PORT@|$PORT|g" -e "s|@CERT@|$CERT|g" -e "s|@KEY@|$KEY|g" \
               "$BENCH/peers/nginx/nginx-tls.conf.in" >"$RAW/nginx/nginx.conf"
             nginx -p "$RAW/nginx" -c "$RAW/nginx/nginx.conf" >"$out" 2>&1 & ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 300); do
    if curl -s --max-time 2 --cacert "$CERT" -o /dev/null "https://127.0.0.1:$PORT/plaintext"; then
      log "started $s (pid $SERVER_PID) on https://127.0.0.1:$PORT"
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$out" >&2; die "$s exited during start-up"; }
    sleep 0.1
  done
  die "$s did not answer https://127.0.0.1:$PORT/plaintext within 30 s"
}

for s in $SERVERS; do
  start "$s"
  log "testssl against $s (several minutes)"
  timeout 1800 testssl --quiet --color 0 --warnings batch --openssl-timeout 5 --jsonfile "$RAW/$s.json" \
    "https://127.0.0.1:$PORT" >"$RAW/$s.txt" 2>&1 || log "WARNING: testssl exited with $? for $s (see $RAW/$s.txt)"
  stop_server
done

mkdir -p "$RESULTS"
{
  echo "# testssl.sh, $(date '+%Y-%m-%d %H:%M:%S %Z')"
  echo
  echo "- commit: \`$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)\`; $(testssl --version 2>/dev/null | grep -o 'testssl *[0-9.]*' | head -n1); $(openssl version)"
  echo "- one self-signed ECDSA P-256 certificate for every server (localhost, 127.0.0.1)"
  echo
  python3 - "$RAW" $SERVERS <<'PY'
import collections, json, sys
raw, servers = sys.argv[1], sys.argv[2:]
order = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "OK", "INFO"]
print("| server | " + " | ".join(order) + " | protocols offered | MEDIUM or above, not about the certificate |")
print("|---|" + "---:|" * len(order) + "---|---|")
certificate_findings = {}
for s in servers:
    try:
        findings = json.load(open(f"{raw}/{s}.json"))
    except (OSError, ValueError):
        print(f"| {s} | " + " | ".join("—" for _ in order) + " | testssl gave no JSON | |")
        continue
    count = collections.Counter(f["severity"] for f in findings)
    offered = [f["id"] for f in findings if f["id"] in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3")
               and f["finding"].startswith("offered")]
    serious = [f for f in findings if f["severity"] in ("CRITICAL", "HIGH", "MEDIUM")]
    server_side = [f"{f['id']} ({f['severity']}: {f['finding']})" for f in serious if not f["id"].startswith("cert_")]
    certificate_findings[s] = [f"{f['id']} ({f['severity']})" for f in serious if f["id"].startswith("cert_")]
    print(f"| {s} | " + " | ".join(str(count.get(o, 0)) for o in order) + f" | {', '.join(offered) or 'none'} | "
          + ("; ".join(server_side) or "none") + " |")
print()
print("Findings about the self-signed test certificate itself (the same certificate for every server):")
print()
for s, found in certificate_findings.items():
    print(f"- {s}: {', '.join(found) or 'none'}")
PY
} | tee "$REPORT"
log "report saved to ${REPORT#"$ROOT"/} (raw output in ${RAW#"$ROOT"/}/)"
