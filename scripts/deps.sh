#!/usr/bin/env bash
# Installs the Debian packages a target needs, when they are missing: `deps.sh run` for
# `make run`, `deps.sh test` for `make test`. Installs only as root (apt-get); otherwise it
# names what is missing and fails.
set -euo pipefail

# OCR (internal/ocr through gosseract, cgo): g++, Tesseract and Leptonica headers, the German
# model. Scanning: sane-utils (scanimage). fonts-liberation for the synthetic prescriptions
# (Courier-compatible) of the tests and the demo pharmacy.
ocr_pkgs=(g++ libtesseract-dev libleptonica-dev tesseract-ocr-deu sane-utils)
run_pkgs=(ca-certificates espeak-ng "${ocr_pkgs[@]}" fonts-liberation)
test_pkgs=(ca-certificates postgresql chromium espeak-ng sip-tester baresip-core
	"${ocr_pkgs[@]}" fonts-liberation)

case "${1:-}" in
run) want=("${run_pkgs[@]}") ;;
test) want=("${test_pkgs[@]}") ;;
*) echo "usage: deps.sh run|test" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing Debian packages: ${missing[*]} (run as root or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
