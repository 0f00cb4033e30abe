#!/bin/sh
# Counts the words of every text file of the corpus; logs totals through the step protocol.
set -eu
corpus=$1
out=$2
files=0
words=0
for f in "$corpus"/*.txt; do
  n=$(wc -w < "$f")
  printf '%s\t%s\n' "$(basename "$f")" "$n" >> "$out/counts.tsv"
  files=$((files + 1))
  words=$((words + n))
done
metric() { printf '{"kind":"metric","name":"%s","value":%s}\n' "$1" "$2" >> "$PIPELINE_METRICS_FILE"; }
metric files "$files"
metric words "$words"
printf '{"kind":"tags","value":{"language":"sh"}}\n' >> "$PIPELINE_METRICS_FILE"
mkdir -p outputs
printf 'files: %s\nwords: %s\n' "$files" "$words" > outputs/summary.txt
echo "counted $words words in $files files"
