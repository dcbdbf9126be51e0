#!/usr/bin/env bash
# Make a throw-away test CA with a server and a client certificate, for the registry simulator's
# mutual TLS (`entitle registry serve --tls-cert/--tls-key/--tls-ca`). Test use only: the keys are
# unencrypted and valid for 30 days.
#
#   scripts/make-test-ca.sh OUTDIR [SERVER_NAME]
#
# OUTDIR gets ca.crt/ca.key, server.crt/server.key (SAN: SERVER_NAME, default localhost, and
# 127.0.0.1) and client.crt/client.key (CN entitle-test-client, clientAuth).
set -euo pipefail

out=${1:?usage: make-test-ca.sh OUTDIR [SERVER_NAME]}
name=${2:-localhost}
days=30
command -v openssl >/dev/null || { echo "make-test-ca.sh: openssl not found" >&2; exit 1; }
mkdir -p "$out"
cd "$out"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

key ca.key
openssl req -x509 -new -key ca.key -sha256 -days "$days" -subj "/CN=Entitle test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca.crt

sign() {  # sign NAME SUBJECT EXTENSIONS
  key "$1.key"
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 \
    -days "$days" -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

sign server "/CN=$name" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:$name,IP:127.0.0.1"
sign client "/CN=entitle-test-client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
rm -f ca.srl
chmod 600 ./*.key
echo "test CA, server and client certificates in $out"
