#!/bin/sh
# Adds the certificate authorities of a PEM bundle to the system trust store (an empty bundle
# adds nothing). Each certificate gets its own file: update-ca-certificates links one per file.
set -eu
bundle=$1
[ -s "$bundle" ] || exit 0
dir=/usr/local/share/ca-certificates/pookie
mkdir -p "$dir"
awk -v dir="$dir" '
    /-----BEGIN CERTIFICATE-----/ { n++; file = sprintf("%s/pookie-%04d.crt", dir, n) }
    file { print > file }
    /-----END CERTIFICATE-----/ { close(file); file = "" }
' "$bundle"
if command -v update-ca-certificates >/dev/null 2>&1; then
    update-ca-certificates >/dev/null 2>&1 || update-ca-certificates
elif command -v update-ca-trust >/dev/null 2>&1; then
    cp "$dir"/*.crt /etc/pki/ca-trust/source/anchors/ && update-ca-trust
else
    cat "$dir"/*.crt >> /etc/ssl/certs/ca-certificates.crt
fi
