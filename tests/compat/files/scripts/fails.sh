#!/bin/sh
echo "partial output"
echo "something went wrong" >&2
exit 3
