#!/usr/bin/env bash
# Provides an etcd build for the tests, the demo, chaos and the benchmarks.
#
#   scripts/fetch-etcd.sh [3.4|3.5|3.5-sid|all]      (default 3.4)
#
#   3.4      Debian's system packages etcd-server/etcd-client (bookworm: 3.4.23); installed with
#            apt-get when etcd or etcdctl is missing (needs root). Nothing is copied.
#   3.5      Debian trixie's etcd-server and etcd-client (3.5.x), downloaded with a private apt
#            sources list and unpacked into $LOCKED_ETCD_CACHE/3.5/ (default
#            ~/.cache/locked-etcd/3.5/). Nothing is installed on the system.
#   3.5-sid  the same from Debian sid (the newest 3.5), when sid still has a 3.5 etcd-server.
#   all      each of the above; 3.5-sid is skipped with a message when sid has no 3.5.
#
# The Debian mirror is the one the machine's /etc/apt/sources.list(.d) already uses for its own
# Debian release (LOCKED_ETCD_MIRROR=http://host/debian overrides it). Idempotent: a build
# already in the cache is only checked (`etcd --version`). Informational lines go to stderr; the
# last line on stdout is the directory holding the build's etcd and etcdctl.
# Exit codes: 0 ok, 1 failure, 2 usage, 3 the build is not available (3.5-sid without a 3.5).
set -euo pipefail

CACHE="${LOCKED_ETCD_CACHE:-${HOME:-/root}/.cache/locked-etcd}"

say() { printf 'fetch-etcd: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

# The version an etcd binary reports, e.g. 3.5.16 (from "etcd Version: 3.5.16").
etcd_version() {
  "$1" --version 2>/dev/null | sed -n 's/^etcd Version: *//p' | head -1
}

# The URI of the Debian archive the machine uses for its own release: the first enabled `deb`
# entry in /etc/apt/sources.list, *.list or *.sources (deb822) whose suite is a plain Debian
# suite (no -security, -updates, -backports) and whose URI is not a security mirror.
debian_mirror() {
  if [[ -n "${LOCKED_ETCD_MIRROR:-}" ]]; then
    printf '%s\n' "${LOCKED_ETCD_MIRROR%/}"
    return
  fi
  local codename='' files=() f
  codename="$(. /etc/os-release 2>/dev/null && printf '%s' "${VERSION_CODENAME:-}")" || true
  [[ -f /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] && files+=("$f")
  done
  ((${#files[@]})) || return 1
  awk -v codename="$codename" '
    function plain(suite) {
      return suite == codename || suite ~ /^(oldstable|stable|testing|unstable|sid|bullseye|bookworm|trixie|forky|duke)$/
    }
    function consider(uri, suites,   n, s, i) {
      if (uri == "" || uri ~ /security/) return
      n = split(suites, s, /[ \t]+/)
      for (i = 1; i <= n; i++) if (plain(s[i])) { sub(/\/+$/, "", uri); print uri; found = 1; exit }
    }
    function flush() {
      if (types ~ /(^|[ \t])deb([ \t]|$)/ && tolower(enabled) != "no") {
        n = split(uris, u, /[ \t]+/)
        for (i = 1; i <= n; i++) consider(u[i], suites)
      }
      types = uris = suites = enabled = ""
    }
    FNR == 1 { flush() }
    FILENAME ~ /\.sources$/ {
      if ($0 ~ /^[ \t]*$/) { flush(); next }
      if ($0 ~ /^[ \t]*#/) next
      key = tolower($1); val = $0; sub(/^[^:]*:[ \t]*/, "", val)
      if (key == "types:") types = val
      else if (key == "uris:") uris = val
      else if (key == "suites:") suites = val
      else if (key == "enabled:") enabled = val
      next
    }
    /^[ \t]*deb[ \t]/ {
      line = $0; sub(/#.*/, "", line); gsub(/\[[^]]*\]/, "", line)
      n = split(line, w, /[ \t]+/); j = 0
      for (i = 1; i <= n; i++) if (w[i] != "") a[++j] = w[i]
      if (j >= 3) consider(a[2], a[3])
    }
    END { if (!found) flush() }
  ' "${files[@]}"
}

fetch_system() {
  local etcd etcdctl version
  etcd="$(command -v etcd || true)"
  etcdctl="$(command -v etcdctl || true)"
  if [[ -z "$etcd" || -z "$etcdctl" ]]; then
    if [[ "$(id -u)" != 0 ]]; then
      die "etcd/etcdctl are not installed and this is not root; run: sudo apt-get install -y etcd-server etcd-client"
    fi
    say "installing etcd-server and etcd-client from Debian (apt-get)…"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || die "apt-get update failed"
    apt-get install -y -qq etcd-server etcd-client >/dev/null || die "apt-get install -y etcd-server etcd-client failed"
    etcd="$(command -v etcd || true)"
    etcdctl="$(command -v etcdctl || true)"
    [[ -n "$etcd" && -n "$etcdctl" ]] || die "apt-get install etcd-server etcd-client did not provide etcd and etcdctl"
  fi
  version="$(etcd_version "$etcd")"
  [[ -n "$version" ]] || die "$etcd --version did not report a version"
  [[ "$version" == 3.4.* ]] || say "warning: build 3.4 is the system's etcd, which here is $version"
  [[ "$(dirname "$etcdctl")" == "$(dirname "$etcd")" ]] || say "warning: etcdctl ($etcdctl) is not beside etcd ($etcd)"
  say "3.4: etcd $version ($etcd, system package)"
  dirname "$etcd"
}

# fetch_debian BUILD SUITE: etcd-server and etcd-client of Debian SUITE, unpacked into $CACHE/BUILD.
fetch_debian() {
  local build="$1" suite="$2"
  local dest="$CACHE/$build"
  local version
  if [[ -x "$dest/usr/bin/etcd" && -x "$dest/usr/bin/etcdctl" && -f "$dest/VERSION" ]]; then
    version="$(etcd_version "$dest/usr/bin/etcd")"
    if [[ "$version" == 3.5.* ]]; then
      say "$build: etcd $version (cached in $dest)"
      printf '%s\n' "$dest/usr/bin"
      return 0
    fi
    say "$build: the cached build in $dest does not run (etcd --version: '${version}'); fetching it again"
  fi

  command -v apt-get >/dev/null || die "apt-get is needed to fetch build $build"
  command -v dpkg-deb >/dev/null || die "dpkg-deb is needed to fetch build $build"
  local mirror arch
  mirror="$(debian_mirror)" || true
  [[ -n "$mirror" ]] || die "found no Debian mirror in /etc/apt/sources.list or /etc/apt/sources.list.d/ (set LOCKED_ETCD_MIRROR=http://host/debian)"
  arch="$(dpkg --print-architecture)"

  local tmp
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/locked-etcd-apt.XXXXXX")"
  # fetch_debian runs in a subshell of its own (see locked_fetch): clean up when it ends.
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/debs" "$tmp/root"
  : >"$tmp/status"
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  local signed=''
  [[ -f "$keyring" ]] && signed=" signed-by=$keyring"
  printf 'deb [arch=%s%s] %s %s main\n' "$arch" "$signed" "$mirror" "$suite" >"$tmp/sources.list"
  # apt drops to its _apt user to download: let it write where it downloads.
  if [[ "$(id -u)" == 0 ]] && id _apt >/dev/null 2>&1; then
    chmod 755 "$tmp"
    chown -R _apt "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/debs"
  fi
  local apt=(
    -o "Dir::Etc::SourceList=$tmp/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::Etc::Preferences=/dev/null"
    -o "Dir::Etc::PreferencesParts=/dev/null"
    -o "Dir::State::Lists=$tmp/lists"
    -o "Dir::State::Status=$tmp/status"
    -o "Dir::Cache=$tmp/cache"
    -o "APT::Architecture=$arch"
  )

  say "$build: reading Debian $suite's package list from $mirror (private apt lists in $tmp)…"
  apt-get "${apt[@]}" -qq update >&2 || die "apt-get update of Debian $suite from $mirror failed"
  local server_version client_version
  server_version="$(apt-cache "${apt[@]}" show etcd-server 2>/dev/null | sed -n 's/^Version: *//p' | sort -V | tail -1)" || true
  client_version="$(apt-cache "${apt[@]}" show etcd-client 2>/dev/null | sed -n 's/^Version: *//p' | sort -V | tail -1)" || true
  if [[ -z "$server_version" || -z "$client_version" ]]; then
    say "$build: Debian $suite has no etcd-server/etcd-client package"
    return 3
  fi
  if [[ "$server_version" != 3.5.* || "$client_version" != 3.5.* ]]; then
    say "$build: Debian $suite has etcd-server $server_version and etcd-client $client_version, not 3.5; skipped"
    return 3
  fi
  [[ "$server_version" == "$client_version" ]] || say "$build: warning: etcd-server $server_version but etcd-client $client_version"

  say "$build: downloading etcd-server $server_version and etcd-client $client_version from Debian $suite…"
  (cd "$tmp/debs" && apt-get "${apt[@]}" -qq download "etcd-server=$server_version" "etcd-client=$client_version") >&2 ||
    die "apt-get download etcd-server=$server_version etcd-client=$client_version failed"
  local deb
  for deb in "$tmp"/debs/*.deb; do
    [[ -f "$deb" ]] || die "apt-get download left no .deb in $tmp/debs"
    dpkg-deb -x "$deb" "$tmp/root" || die "dpkg-deb -x $deb failed"
  done
  [[ -x "$tmp/root/usr/bin/etcd" && -x "$tmp/root/usr/bin/etcdctl" ]] ||
    die "the packages did not contain usr/bin/etcd and usr/bin/etcdctl"
  version="$(etcd_version "$tmp/root/usr/bin/etcd")"
  [[ "$version" == 3.5.* ]] || die "the unpacked etcd does not run or is not 3.5 (etcd --version: '${version}')"
  "$tmp/root/usr/bin/etcdctl" version >/dev/null 2>&1 || die "the unpacked etcdctl does not run"
  printf 'etcd %s; Debian %s etcd-server %s, etcd-client %s; mirror %s\n' \
    "$version" "$suite" "$server_version" "$client_version" "$mirror" >"$tmp/root/VERSION"

  # Move into place in one step, so that a reader never sees half a build.
  mkdir -p "$CACHE"
  local old="$CACHE/.$build.old.$$"
  [[ -e "$dest" ]] && mv "$dest" "$old"
  mv "$tmp/root" "$dest"
  rm -rf "$old"
  say "$build: etcd $version in $dest"
  printf '%s\n' "$dest/usr/bin"
}

# One fetch of a build at a time (test workers may ask for it at once).
locked_fetch() {
  local build="$1"
  case "$build" in
    3.4) fetch_system ;;
    3.5 | 3.5-sid)
      local suite=trixie
      [[ "$build" == 3.5-sid ]] && suite=sid
      mkdir -p "$CACHE"
      (
        if command -v flock >/dev/null; then
          exec 9>"$CACHE/.$build.lock"
          flock 9
        fi
        fetch_debian "$build" "$suite"
      )
      ;;
    *)
      say "unknown build '$build'; the builds are 3.4, 3.5, 3.5-sid (or all)"
      exit 2
      ;;
  esac
}

main() {
  (($# <= 1)) || {
    say "usage: $0 [3.4|3.5|3.5-sid|all]"
    exit 2
  }
  local build="${1:-3.4}"
  if [[ "$build" == all ]]; then
    local b out last='' status
    for b in 3.4 3.5 3.5-sid; do
      status=0
      # a run of its own per build, so that `set -e` holds inside it
      out="$(bash "$0" "$b")" || status=$?
      if ((status == 3)); then
        say "$b: not available; skipped"
      elif ((status != 0)); then
        exit "$status"
      else
        printf '%s: %s\n' "$b" "$out"
        last="$out"
      fi
    done
    printf '%s\n' "$last"
    return 0
  fi
  locked_fetch "$build"
}

main "$@"
