#!/bin/sh
# Peer for bench/register.ts: Debian's native elastix CLI on one fixed/moving pair.
# usage: elastix-run.sh <fixed.mha> <moving.mha> <params.txt> <outdir>
# Prints nothing on success; the result is <outdir>/TransformParameters.0.txt.
set -e
mkdir -p "$4"
exec /usr/bin/elastix -f "$1" -m "$2" -p "$3" -out "$4" -threads 1 > "$4/stdout.log" 2>&1
