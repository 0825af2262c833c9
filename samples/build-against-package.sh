#!/usr/bin/env bash
# Builds every sample as a user would: against the Eddy package, not the source.
# Run it: samples/build-against-package.sh          (from anywhere; .ci/run runs it)
#
# It packs src/Eddy and src/Eddy.Hosting into a temporary folder feed with a version of its own (so no package cached from an
# earlier run is taken for it), writes a NuGet.config naming that feed beside the usual source, and builds
# each samples/*/ project with EddyPackageVersion set (samples/Directory.Build.props then uses a
# PackageReference instead of the project). Outputs go to the temporary folder, not the samples' bin/obj.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version="0.1.0-local.$(date +%s)"

for package in src/Eddy/Eddy.csproj src/Eddy.Hosting/Eddy.Hosting.csproj; do
  dotnet pack "$package" -c Release -o "$work/feed" -p:Version="$version" -p:ContinuousIntegrationBuild=true -nologo -v:q
done

# The local feed first, then the sources this machine restores the rest from.
cat > "$work/NuGet.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="eddy-local" value="$work/feed" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="eddy-local"><package pattern="Eddy" /><package pattern="Eddy.Hosting" /></packageSource>
  </packageSourceMapping>
</configuration>
CONFIG
# Source mapping: Eddy and Eddy.Hosting from the local feed only; every other package from the usual sources.
for source in $(dotnet nuget list source --format short | awk '$1 ~ /^E/ { print $2 }'); do
  key="source-$(echo "$source" | md5sum | cut -c1-8)"
  sed -i "s#  </packageSources>#    <add key=\"$key\" value=\"$source\" />\n  </packageSources>#; s#  </packageSourceMapping>#    <packageSource key=\"$key\"><package pattern=\"*\" /></packageSource>\n  </packageSourceMapping>#" "$work/NuGet.config"
done

status=0
for project in samples/*/*.csproj; do
  name=$(basename "$project" .csproj)
  if dotnet build "$project" -c Release -nologo -v:q -p:EddyPackageVersion="$version" \
       -p:RestoreConfigFile="$work/NuGet.config" --artifacts-path "$work/artifacts/$name" >"$work/$name.log" 2>&1 \
     && grep -q "\"Eddy/$version\"" "$work/artifacts/$name/obj/$name/project.assets.json"; then
    echo "sample $name builds against Eddy $version"
  else
    cat "$work/$name.log" >&2
    echo "sample $name does NOT build against the package" >&2
    status=1
  fi
done
exit "$status"
