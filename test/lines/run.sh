#!/usr/bin/env bash
# One later cdk8s-plus line's pass of `npm test` (see "One source tree, one package per cdk8s-plus
# line" in the README): build the line's package from src/, run the suite against it in the
# loopback-only namespace, and say how long the pass took. Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "$0")/../.."
line=$1
shift
started=$(date +%s)
ts-node --project projenrc/tsconfig.json projenrc/build-line.ts "$line"
sh test/loopback-only.sh env CDK8S_PLUS_LINE="$line" jest --passWithNoTests --ci --config "test/lines/plus-$line.jest.json" "$@"
echo "cdk8s-plus-$line: package built and suite passed in $(( $(date +%s) - started )) s"
