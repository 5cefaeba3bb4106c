#!/bin/sh
# Prints OK when the node's kubelet configuration is in place.
root="$(dirname "$0")/../../.."
if [ -f "$root/var/lib/kubelet/config.yaml" ]; then echo OK; else echo MISSING; exit 1; fi
