#!/bin/sh
echo "from the role's files/ as $1"
