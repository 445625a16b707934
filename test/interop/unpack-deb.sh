# Sourced by the interop scripts that need a program Debian packages but
# that must not be installed (it conflicts with Postfix, or would start a
# service): `unpack_deb PACKAGE DOWNLOADS LOG DEST` downloads PACKAGE's .deb
# from the machine's apt sources into DOWNLOADS and unpacks it into DEST with
# dpkg-deb. When the download fails the package lists are refreshed once
# (images often drop them) and it is tried again. Every apt-get call is
# bounded by APT_TIME_LIMIT. Returns non-zero, the log's tail on stderr and
# the reason in UNPACK_DEB_ERROR, when it could not; UNPACK_DEB_FILE names
# the .deb it unpacked (for `dpkg-deb -f "$UNPACK_DEB_FILE" Version`).
unpack_deb() {
  local package=$1 downloads=$2 log=$3 dest=$4 deb
  UNPACK_DEB_ERROR=
  UNPACK_DEB_FILE=
  mkdir -p "$downloads"
  _unpack_deb_download() { (cd "$downloads" && timeout "$APT_TIME_LIMIT" apt-get -q download "$package") >>"$log" 2>&1; }
  if ! _unpack_deb_download; then
    timeout "$APT_TIME_LIMIT" apt-get -q update >>"$log" 2>&1 || true
    _unpack_deb_download || { tail -n 20 "$log" >&2; UNPACK_DEB_ERROR="apt-get download $package failed"; return 1; }
  fi
  deb=$(find "$downloads" -maxdepth 1 -name "${package}_*.deb" | head -n 1)
  [ -n "$deb" ] || { UNPACK_DEB_ERROR="no ${package}_*.deb was downloaded"; return 1; }
  dpkg-deb -x "$deb" "$dest" || { UNPACK_DEB_ERROR="dpkg-deb could not unpack $deb"; return 1; }
  UNPACK_DEB_FILE=$deb
}
