#!/bin/sh
# Runs a command (jest, in `npm test`) in a network namespace of its own whose only interface is
# loopback: the init scripts under test, and the servers they talk to, reach nothing else, as a
# step in a pod reaches only what the test sets up.
set -eu
exec unshare --net -- sh -c 'busybox ip link set lo up && exec "$@"' loopback-only "$@"
