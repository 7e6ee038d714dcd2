#!/usr/bin/env bash
# Installing what the local stack needs (Java, Kafka, Redis, PostgreSQL, uv) when it is
# missing: sourced by stack.sh after lib.sh and the stack's env file, never run.

redis_bin() {
  command -v redis-server 2>/dev/null || { [[ -x /usr/bin/redis-server ]] && echo /usr/bin/redis-server; }
}

# The PostgreSQL bin folder: the version that made the data folder if there is one, else the
# newest installed under /usr/lib/postgresql, else wherever initdb is on the PATH.
pg_bindir() {
  local dir
  if [[ -f "$PG_DATA/PG_VERSION" ]]; then
    dir="/usr/lib/postgresql/$(<"$PG_DATA/PG_VERSION")/bin"
    [[ -x "$dir/postgres" ]] && { echo "$dir"; return 0; }
  fi
  for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k4 -V -r); do
    [[ -x "$dir/initdb" && -x "$dir/postgres" && -x "$dir/psql" ]] && { echo "$dir"; return 0; }
  done
  dir="$(command -v initdb 2>/dev/null)" || return 1
  dir="$(dirname "$(readlink -f "$dir")")"
  [[ -x "$dir/postgres" ]] && echo "$dir"
}

apt_install() {
  local policy=/usr/sbin/policy-rc.d added=""
  # Keep the packages' own services (redis on 6379, the "main" cluster on 5432) from starting:
  # this stack runs its own instances.
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added=1
  fi
  local rc=0
  {
    quietly apt-get update &&
      DEBIAN_FRONTEND=noninteractive quietly apt-get install -y --no-install-recommends "$@"
  } || rc=$?
  [[ -n "$added" ]] && rm -f "$policy"
  return "$rc"
}

ensure_uv() {
  uv_cmd >/dev/null && return 0
  # Debian's own python refuses a plain pip install (PEP 668); uv is a self-contained binary.
  quietly python3 -m pip install --quiet uv ||
    quietly python3 -m pip install --quiet --break-system-packages uv ||
    die "could not install uv with pip"
  uv_cmd >/dev/null || die "uv installed but not found on PATH"
}

install_missing() {
  local pkgs=() did=()
  command -v java >/dev/null || pkgs+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || pkgs+=(maven)
  redis_bin >/dev/null || pkgs+=(redis-server)
  pg_bindir >/dev/null || pkgs+=(postgresql)
  command -v kcat >/dev/null || pkgs+=(kcat) # payments.v1 read by a client outside our code
  # The payment page's browser tests drive Debian's Chromium (Playwright's own download is
  # not reachable): /usr/bin/chromium.
  [[ -x /usr/bin/chromium ]] || pkgs+=(chromium)
  # ...and its Chinese page is read in a CJK font (the screenshots, not the assertions, need it).
  [[ -d /usr/share/fonts/truetype/wqy ]] || pkgs+=(fonts-wqy-microhei)
  # The ledger prints account timelines to PDF with WeasyPrint, which loads Pango and HarfBuzz.
  compgen -G '/usr/lib/*/libpangoft2-1.0.so.0' >/dev/null || pkgs+=(libpango-1.0-0 libpangoft2-1.0-0)
  compgen -G '/usr/lib/*/libharfbuzz-subset.so.0' >/dev/null || pkgs+=(libharfbuzz-subset0)
  [[ -d /usr/share/fonts/truetype/dejavu ]] || pkgs+=(fonts-dejavu-core)
  if ((${#pkgs[@]})); then
    apt_install "${pkgs[@]}" || die "apt-get install ${pkgs[*]} failed"
    did+=("apt: ${pkgs[*]}")
  fi
  if ! uv_cmd >/dev/null; then
    ensure_uv
    did+=(uv)
  fi
  local marker_before=""
  [[ -f "$KAFKA_DIR/lib/.resolved" ]] && marker_before="$(<"$KAFKA_DIR/lib/.resolved")"
  "$LOCAL_DIR/install-kafka.sh"
  [[ "$marker_before" == "$(<"$KAFKA_DIR/lib/.resolved")" ]] || did+=("kafka jars")
  if ((${#did[@]})); then
    INSTALL_NOTE="installed: ${did[0]}"
    local item
    for item in "${did[@]:1}"; do INSTALL_NOTE+=", $item"; done
  else
    INSTALL_NOTE="nothing missing"
  fi
}

