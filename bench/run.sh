#!/usr/bin/env bash
# PipelineSdk performance bench: packs the SDK from this working tree, then measures hashing throughput,
# dataset fingerprinting, a no-op build and per-step overhead against reference tools on this machine,
# and prints a table of figure, value, reference, ratio, target, PASS/MISS.
#
#   bench/run.sh [--quick] [--compute] [--only hash|fingerprint|noop|chain] [--work DIR] [--keep]
#
#   --quick     smaller sizes (256 MiB, 20k files, 10 steps) to smoke-test the bench (a minute or two)
#   --compute   only the per-step overhead of the Docker and Slurm targets against docker run and sbatch --wait
#   --only X    only one of the engine figures (the no-op build also measures hashing, whose file it reads)
#   --work DIR  where everything is created (default: a new folder under /tmp); deleted at the end
#   --keep      keep the work folder
#
# The full run needs ~2 GiB of free disk and RAM for the page cache, and takes several minutes on 2 cores.
# Other work on the machine (builds, tests) skews the figures: run it on a quiet machine.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# xxhsum (package xxhash) is the reference for hashing throughput.
if ! command -v xxhsum >/dev/null; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  # Refresh the package lists only when they do not know the package yet.
  if ! apt-cache show xxhash >/dev/null 2>&1; then $sudo apt-get update -qq; fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xxhash >/dev/null
fi

echo "packing the SDK (Release) into artifacts/packages"
dotnet build sdk/PipelineSdk.csproj -c Release -nologo -v:q
ls artifacts/packages/PipelineSdk.*.nupkg >/dev/null

echo "building the bench (Release)"
project=bench/PipelineSdk.Bench/PipelineSdk.Bench.csproj
dotnet build "$project" -c Release -nologo -v:q
bench="$(dotnet msbuild "$project" -nologo -getProperty:TargetPath -p:Configuration=Release)"

exec dotnet "$bench" "$@"
