#!/bin/sh
echo "pwd=$(pwd)" | sed "s#.*/\.work/#WORK/#"
touch made-by-script
