#!/bin/sh
# Make a private CA, a server certificate and a demo client certificate signed by it, with the
# openssl command-line tool and no network. The Dockerfile runs this on every build, so each image
# has its own CA; tests and the benchmark run it into a temporary folder.
#
#   make_certs.sh OUT_DIR [ec|rsa]        ec = ECDSA P-256 (the default), rsa = RSA-2048
#
# OUT_DIR gets ca.crt, server.crt, server.key, client.crt, client.key. The CA private key lives
# only in a temporary folder and is deleted once both certificates are signed, so nobody can sign
# more certificates with this CA after the build. CERT_DAYS (default 365) sets the validity; browsers
# and Mozilla's guidelines accept at most 366 days for a server certificate.
set -eu

out=${1:?usage: make_certs.sh OUT_DIR [ec|rsa]}
kind=${2:-ec}
days=${CERT_DAYS:-365}
[ "$days" -le 366 ] || { echo "CERT_DAYS must be <= 366" >&2; exit 2; }

umask 077
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
# Our own config, so the result does not depend on the system's openssl.cnf.
export OPENSSL_CONF="$work/openssl.cnf"

newkey() {
    case "$kind" in
        ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" ;;
        rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null ;;
        *) echo "key kind must be ec or rsa, not $kind" >&2; exit 2 ;;
    esac
}

serial() { echo "0x$(openssl rand -hex 16)"; }

cat >"$OPENSSL_CONF" <<CNF
[req]
distinguished_name = dn
prompt = no
[dn]
[ca_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:tls_server, DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF

stamp=$(date -u +%Y%m%dT%H%M%SZ)
newkey "$work/ca.key"
openssl req -x509 -new -key "$work/ca.key" -sha256 -days "$days" -set_serial "$(serial)" \
    -subj "/O=netlab/CN=netlab lab CA $stamp" -extensions ca_ext -out "$work/ca.crt"

# sign NAME SUBJECT EXTENSIONS: a key and a certificate signed by the CA.
sign() {
    newkey "$work/$1.key"
    openssl req -new -key "$work/$1.key" -subj "$2" -out "$work/$1.csr"
    openssl x509 -req -in "$work/$1.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -sha256 \
        -days "$days" -set_serial "$(serial)" -extfile "$OPENSSL_CONF" -extensions "$3" \
        -out "$work/$1.crt" 2>/dev/null
}
sign server "/O=netlab/CN=tls_server" server_ext
sign client "/O=netlab/CN=netlab-demo-client" client_ext

for f in ca.crt server.crt client.crt; do
    cp "$work/$f" "$out/$f" && chmod 644 "$out/$f"
done
for f in server.key client.key; do
    cp "$work/$f" "$out/$f" && chmod 600 "$out/$f"
done
echo "make_certs: $kind certificates in $out (CA key discarded)"
