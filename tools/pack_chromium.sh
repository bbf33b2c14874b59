#!/usr/bin/env bash
# Packs this machine's Chromium (Debian's `chromium` package) for a GPU host that has none, so that
# `moescope bench --browser` can time the engine there as the page runs it (a Web Worker on Chromium's
# WebGPU), beside the Node figures. Self-contained: every library Chromium links, glibc and its loader
# included, with the binaries' interpreter and rpath pointed at /tmp/moescope-chromium (patchelf), so the
# host's own libraries (of another distribution) never mix in; the host's NVIDIA Vulkan driver is
# loaded through the Vulkan loader Chromium ships.
# A wrapper, /tmp/moescope-chromium/chromium.sh, is what to launch (`bench --browser --chromium …`): it
# sets LD_LIBRARY_PATH (libraries with a RUNPATH of their own, libpulse's, ignore the binary's rpath) and a
# fontconfig file with one shipped font (the GPU hosts have neither fonts nor /etc/fonts, and Chromium
# aborts without a font).
# Writes .chromium-1/ and .chromium-2/ (parts of one tar.xz, each under the device tool's 64 MiB per call:
# carry them in two calls); tools/gpu_session.sh browser unpacks them to /tmp/moescope-chromium.
# Needs: chromium, fonts-dejavu-core, patchelf, xz (apt-get install -y chromium fonts-dejavu-core patchelf).
set -euo pipefail
src=/usr/lib/chromium
dest=/tmp/moescope-chromium # the same path here (for a try) and there: the interpreter path is absolute
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg=$stage/moescope-chromium
mkdir -p "$pkg/lib" "$pkg/locales"
# the browser, without the Vulkan validation layer and mock driver (22 MB, for debugging only)
(cd "$src" && cp chromium chrome_crashpad_handler ./*.pak icudtl.dat snapshot_blob.bin v8_context_snapshot.bin \
  libEGL.so libGLESv2.so libvulkan.so.1 libvk_swiftshader.so vk_swiftshader_icd.json "$pkg/")
cp "$src/locales/en-US.pak" "$pkg/locales/"
ldd "$src/chromium" | awk '$2 == "=>" { print $1, $3 }' | while read -r name path; do cp -L "$path" "$pkg/lib/$name"; done
cp -L /lib64/ld-linux-x86-64.so.2 "$pkg/lib/"
mkdir -p "$pkg/fonts"
cp /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf "$pkg/fonts/"
printf '<?xml version="1.0"?>\n<fontconfig><dir>%s/fonts</dir><cachedir>/tmp/moescope-chromium-fontcache</cachedir></fontconfig>\n' "$dest" > "$pkg/fonts.conf"
cat > "$pkg/chromium.sh" <<WRAPPER
#!/bin/sh
# Chromium with its own libraries and fonts (tools/pack_chromium.sh)
export LD_LIBRARY_PATH=$dest/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH} FONTCONFIG_FILE=$dest/fonts.conf
exec $dest/chromium "\$@"
WRAPPER
chmod +x "$pkg/chromium.sh"
for exe in chromium chrome_crashpad_handler; do
  patchelf --set-interpreter "$dest/lib/ld-linux-x86-64.so.2" --force-rpath --set-rpath '$ORIGIN/lib' "$pkg/$exe"
done
tar -cf - -C "$stage" moescope-chromium | xz -T0 -9 > "$stage/chromium.tar.xz"
rm -rf .chromium-1 .chromium-2
mkdir -p .chromium-1 .chromium-2
half=$(( ($(stat -c %s "$stage/chromium.tar.xz") + 1) / 2 ))
split -b "$half" -d "$stage/chromium.tar.xz" "$stage/part-"
mv "$stage/part-00" .chromium-1/
mv "$stage/part-01" .chromium-2/
du -sh .chromium-1 .chromium-2
echo "to try it here: cat .chromium-*/part-* | xz -dc | tar -x -C /tmp && $dest/chromium.sh --version"
