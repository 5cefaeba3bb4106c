words=(alpha beta)
echo "bash array: ${words[1]} ${#words[@]}"
