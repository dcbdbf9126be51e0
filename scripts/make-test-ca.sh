#!/usr/bin/env bash
# Make a throw-away test CA with a server, a client and a signing certificate, for the registry
# simulator's mutual TLS (`entitle registry serve --tls-cert/--tls-key/--tls-ca`) and its check of
# signed MAGDA requests (`--require-signature --signature-ca`). Test use only: the TLS keys are
# unencrypted; the TLS certificates are valid for 30 days, the CA and the signing certificate
# for SIGNING_DAYS (default 400) days.
#
#   scripts/make-test-ca.sh OUTDIR [SERVER_NAME]
#
# OUTDIR gets ca.crt/ca.key, server.crt/server.key (SAN: SERVER_NAME, default localhost, and
# 127.0.0.1), client.crt/client.key (CN entitle-test-client, clientAuth), and the request-signing
# identity as MAGDA's VO-DCBaaS certificates have it: an RSA key, signing.crt/signing.key (PEM,
# unencrypted) and signing.p12 (PKCS#12 with key, certificate and CA; passphrase in signing.pass).
set -euo pipefail

out=${1:?usage: make-test-ca.sh OUTDIR [SERVER_NAME]}
name=${2:-localhost}
days=30
signing_days=${SIGNING_DAYS:-400}
command -v openssl >/dev/null || { echo "make-test-ca.sh: openssl not found" >&2; exit 1; }
mkdir -p "$out"
cd "$out"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

key ca.key
openssl req -x509 -new -key ca.key -sha256 -days "$signing_days" -subj "/CN=Entitle test CA" \
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
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out signing.key 2>/dev/null
openssl req -new -key signing.key -subj "/CN=entitle-test-signing" -out signing.csr
printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,nonRepudiation" \
  > signing.ext
openssl x509 -req -in signing.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 \
  -days "$signing_days" -extfile signing.ext -out signing.crt 2>/dev/null
rm -f signing.csr signing.ext
openssl rand -hex 16 > signing.pass
openssl pkcs12 -export -in signing.crt -inkey signing.key -certfile ca.crt \
  -passout file:signing.pass -out signing.p12
rm -f ca.srl
chmod 600 ./*.key signing.pass signing.p12
echo "test CA, server, client and signing certificates in $out"
