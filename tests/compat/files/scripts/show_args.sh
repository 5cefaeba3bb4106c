#!/bin/sh
# Prints its arguments one a line, and one line on stderr.
echo "argc=$#"
for a in "$@"; do echo "arg=[$a]"; done
echo "greeting=${GREETING:-unset}"
echo "to stderr" >&2
