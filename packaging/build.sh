#!/usr/bin/env bash
# Build the one-folder app bundle dist/diffusion-playground/ with PyInstaller.
#   pip install ".[packaging]" && bash packaging/build.sh
# The build cache goes to build/ (git-ignored), the bundle to dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
pyinstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/diffusion-playground.spec
bundle=dist/diffusion-playground
if [ "$(uname)" = "Linux" ]; then
    # Strip only torch's own libraries: PyInstaller's global strip breaks numpy's OpenBLAS.
    find "$bundle" \( -name 'libtorch*.so*' -o -name 'libc10*.so*' \) -print0 \
        | xargs -0 -r strip --strip-unneeded
fi
echo "built $bundle in $((SECONDS - started)) s, $(du -sh "$bundle" | cut -f1)"
