#!/bin/sh
# Build a cohort release binary with its identity embedded.
#
#   scripts/build-release.sh VERSION BUILD_NUMBER [OUTPUT]
#
# VERSION is YY.N for a release (26.2) or YY.N.H for a hotfix (26.2.1);
# BUILD_NUMBER is the build server's counter (digits). The build time is
# now (UTC) and the revision the checked-out commit. The binary reports all
# of it, with its SHA-256 and the schema version it needs, in
# `cohort version --json`; `cohort release register OUTPUT` reads it there.
set -eu

if [ $# -lt 2 ]; then
	echo "usage: $0 VERSION BUILD_NUMBER [OUTPUT]" >&2
	exit 2
fi
version=$1
number=$2
out=${3:-cohort-$version+$number}

if ! printf '%s' "$version" | grep -Eq '^[0-9]{2}\.[1-9][0-9]{0,3}(\.[1-9][0-9]{0,3})?$'; then
	echo "$0: $version is not a release version; a release is YY.N (e.g. 26.2) and a hotfix YY.N.H (e.g. 26.2.1)." >&2
	exit 2
fi
if ! printf '%s' "$number" | grep -Eq '^[0-9]{1,9}$'; then
	echo "$0: the build number must be 1 to 9 digits, not $number." >&2
	exit 2
fi

built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rev=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain 2>/dev/null || true)" ]; then
	rev="$rev-dirty"
fi

CGO_ENABLED=0 go build -trimpath -o "$out" \
	-ldflags "-X main.version=$version -X main.buildNumber=$number -X main.buildTime=$built -X main.revision=$rev" \
	./cmd/cohort

"./$out" version 2>/dev/null || "$out" version
echo "SHA-256: $(sha256sum "$out" | cut -d' ' -f1)"
