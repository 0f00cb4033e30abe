#!/usr/bin/env bash
# Start / stop a private Docker engine for the test suite, with everything under STATE_DIR.
#
#   .ci/services/docker.sh up   STATE_DIR   # start (or reuse) dockerd, ensure image local/python:3.11, write STATE_DIR/env
#   .ci/services/docker.sh down STATE_DIR [--purge]   # stop dockerd by PID, unmount leftovers (--purge: also drop the image cache)
#
# No registry is reachable on CI machines: local/python:3.11 is built from the host's own files
# (busybox-static + Debian's python3.11 and its standard library + the shared libraries they need).
# The engine has no bridge network and touches no iptables: run containers with `--network none` (or host).
set -euo pipefail

IMAGE=local/python:3.11
IMAGE_REV=3   # bump when the rootfs recipe below changes; an image with another revision is rebuilt

usage() { echo "usage: $0 up|down STATE_DIR [--purge]" >&2; exit 2; }
[ $# -ge 2 ] || usage
CMD=$1
S=$(realpath -m -- "$2")
PURGE=0; [ "${3:-}" = "--purge" ] && PURGE=1
# STATE_DIR/docker.sock is a unix socket: its path must stay below 108 bytes
[ ${#S} -le 90 ] || { echo "[docker.sh] STATE_DIR too long (max 90 characters): $S" >&2; exit 2; }

log() { echo "[docker.sh] $*" >&2; }
. "$(dirname "${BASH_SOURCE[0]}")/processes.sh"

# --- helpers -------------------------------------------------------------------------------------
ensure_packages() { # install whatever of the needed commands is missing (fresh CI machine)
  local need=()
  command -v dockerd >/dev/null || need+=(docker.io)
  command -v openssl >/dev/null || need+=(openssl)
  command -v docker >/dev/null || need+=(docker.io)
  # the image needs a *static* busybox (Debian's busybox package is dynamically linked)
  { [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } || need+=(busybox-static)
  [ -x /usr/bin/python3.11 ] || need+=(python3.11)
  [ ${#need[@]} -eq 0 ] && return 0
  log "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends $(printf '%s\n' "${need[@]}" | sort -u)
}

# exec-root holds unix sockets (containerd.sock.ttrpc, ...; limit 108 bytes): keep it short.
exec_root() {
  if [ -f "$S/exec-root" ]; then cat "$S/exec-root"
  elif [ ${#S} -le 60 ]; then echo "$S/exec"
  else echo "/run/psdk-docker-$(printf '%s' "$S" | md5sum | cut -c1-12)"; fi
}

dockerd_pid() { local p; p=$(cat "$S/dockerd.pid" 2>/dev/null) || return 1; is_pid_of "$p" dockerd && echo "$p"; }

dk() { DOCKER_HOST="unix://$S/docker.sock" docker "$@"; }
answers() { [ -S "$S/docker.sock" ] && timeout 5 env DOCKER_HOST="unix://$S/docker.sock" docker version >/dev/null 2>&1; }

unmount_under() { # unmount every mount point at or below $1, deepest first
  local root=$1 mp
  [ -n "$root" ] && [ "$root" != / ] || return 0
  # mountinfo field 5 is the mount point, with space/tab/newline/backslash octal-escaped
  awk '{print $5}' /proc/self/mountinfo | while read -r mp; do printf '%b\n' "$mp"; done |
    awk -v r="$root" '$0 == r || index($0, r "/") == 1' | awk '{print length, $0}' | sort -rn | cut -d' ' -f2- |
    while IFS= read -r mp; do
      umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || log "could not unmount $mp"
    done
}

cleanup_leftovers() { # after dockerd is gone (or died): its containerd, shims, containers, mounts
  local ex cpid p c
  ex=$(exec_root)
  # dockerd's containerd exits with it; a stale containerd.pid naming a zombie would make the next dockerd
  # wait for a containerd that never answers, so the file goes in any case
  cpid=$(cat "$ex/containerd/containerd.pid" 2>/dev/null || true)
  [ -n "$cpid" ] && stop_pid "$cpid" containerd 10
  rm -f "$ex/containerd/containerd.pid"
  # shims (and their containers) of a dockerd that was SIGKILLed: only those that talk to *our* containerd
  for p in $(grep -lsF -- "$ex/containerd/containerd.sock" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
    is_pid_of "$p" containerd-shim || continue
    for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do kill -KILL "$c" 2>/dev/null || true; done
    stop_pid "$p" containerd-shim 5
  done
  unmount_under "$S"
  if [ "$ex" != "$S/exec" ]; then unmount_under "$ex"; fi
}

stop_engine() {
  local ex pid cpid
  ex=$(exec_root)
  if pid=$(dockerd_pid); then
    # remove containers first so that dockerd does not wait for each one to stop
    if answers; then
      local ids; ids=$(timeout 20 env DOCKER_HOST="unix://$S/docker.sock" docker ps -aq 2>/dev/null || true)
      [ -n "$ids" ] && timeout 30 env DOCKER_HOST="unix://$S/docker.sock" docker rm -f $ids >/dev/null 2>&1 || true
    fi
    stop_pid "$pid" dockerd 20
  fi
  cleanup_leftovers
  rm -f "$S/dockerd.pid" "$S/docker.sock" "$S/env"
}

start_engine() {
  local ex pid i
  ex=$(exec_root)
  mkdir -p "$S/data" "$ex"
  echo "$ex" > "$S/exec-root"
  # leftovers of an engine that died (stale pidfile, mounts) would confuse a new one
  rm -f "$S/dockerd.pid" "$S/docker.sock"
  cleanup_leftovers
  make_tls
  log "starting dockerd (log: $S/dockerd.log; TLS on 127.0.0.1:$(cat "$S/tls-port"))"
  # setsid: own session, survives the caller; fd 9 (our lock) closed so the daemon does not hold it
  setsid dockerd --storage-driver=overlay2 --iptables=false --ip-forward=false --bridge=none \
    --host "unix://$S/docker.sock" --data-root "$S/data" --exec-root "$ex" --pidfile "$S/dockerd.pid" \
    --host "tcp://127.0.0.1:$(cat "$S/tls-port")" --tlsverify --tlscacert "$S/tls/ca.pem" \
    --tlscert "$S/tls/server-cert.pem" --tlskey "$S/tls/server-key.pem" \
    </dev/null >"$S/dockerd.log" 2>&1 9>&- &
  pid=$!
  for ((i = 0; i < 600; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then log "dockerd exited:"; tail -n 30 "$S/dockerd.log" >&2; exit 1; fi
    answers && break
    sleep 0.1
  done
  if ! answers; then
    log "dockerd not ready after 60 s:"; tail -n 30 "$S/dockerd.log" >&2
    kill -TERM "$pid" 2>/dev/null || true
    exit 1
  fi
  [ "$(cat "$S/dockerd.pid" 2>/dev/null)" = "$pid" ] || echo "$pid" > "$S/dockerd.pid"
}

# --- the image -----------------------------------------------------------------------------------
build_rootfs() { # build_rootfs DIR: busybox + python3.11 + stdlib + the libraries they load
  local R=$1 a f lib
  rm -rf "$R"; mkdir -p "$R"/usr/{bin,sbin,lib,lib64} "$R"/{etc,tmp,root,proc,sys,dev,run,var/tmp,home}
  # Debian 12 is merged-/usr: /bin, /sbin, /lib, /lib64 are symlinks into /usr
  ln -s usr/bin "$R/bin"; ln -s usr/sbin "$R/sbin"; ln -s usr/lib "$R/lib"; ln -s usr/lib64 "$R/lib64"
  chmod 1777 "$R/tmp" "$R/var/tmp"; chmod 700 "$R/root"

  cp /bin/busybox "$R/usr/bin/busybox"
  for a in $(/bin/busybox --list); do
    [ -e "$R/usr/bin/$a" ] || ln -s busybox "$R/usr/bin/$a"
  done

  cp /usr/bin/python3.11 "$R/usr/bin/python3.11"
  ln -s python3.11 "$R/usr/bin/python3"; ln -s python3.11 "$R/usr/bin/python"
  mkdir -p "$R/usr/local/bin"

  # standard library, without tests, IDLE, Tk, ensurepip, bytecode caches and static libpython
  (cd /usr/lib/python3.11 && find . \
      \( -name __pycache__ -o -path ./test -o -path ./idlelib -o -path ./tkinter -o -path ./ensurepip \
         -o -path ./lib2to3/tests -o -path ./unittest/test -o -path ./ctypes/test -o -path ./distutils/tests \
         -o -path ./sqlite3/test \) -prune -o \
      ! -name '*.a' ! -name '*.o' ! -name 'libpython*.so' \
      ! -name '_test*.cpython-*.so' ! -name '_xxtestfuzz*.so' ! -name '_ctypes_test*.so' ! -name 'xxlimited*.so' \
      -print0 | tar --null --no-recursion -T - -chf -) |
    (mkdir -p "$R/usr/lib/python3.11" && tar -C "$R/usr/lib/python3.11" -xf -)

  # shared libraries of python and of its C extension modules, plus ones glibc dlopens
  {
    ldd /usr/bin/python3.11
    for f in "$R"/usr/lib/python3.11/lib-dynload/*.so; do ldd "$f"; done
  } | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}' | sort -u > "$R/.libs"
  for lib in /lib/x86_64-linux-gnu/libgcc_s.so.1; do [ -e "$lib" ] && echo "$lib" >> "$R/.libs"; done
  while read -r lib; do
    mkdir -p "$R$(dirname "$lib")"
    cp -L "$lib" "$R$lib"
  done < "$R/.libs"
  rm -f "$R/.libs"

  # UTF-8 locale and time zones (small), so that locale/zoneinfo work as on the host
  [ -d /usr/lib/locale/C.utf8 ] && { mkdir -p "$R/usr/lib/locale"; cp -a /usr/lib/locale/C.utf8 "$R/usr/lib/locale/"; }
  if [ -d /usr/share/zoneinfo ]; then
    mkdir -p "$R/usr/share/zoneinfo"
    tar -C /usr/share/zoneinfo --exclude=./right --exclude=./localtime -cf - . | tar -C "$R/usr/share/zoneinfo" -xf -
  fi
  ln -s /usr/share/zoneinfo/Etc/UTC "$R/etc/localtime"

  cat > "$R/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
  cat > "$R/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$R/etc/nsswitch.conf"
  echo psdk > "$R/etc/hostname"
}

image_rev() { dk image inspect -f '{{ index .Config.Labels "psdk.rootfs.rev" }}' "$IMAGE" 2>/dev/null || true; }

ensure_image() {
  if [ "$(image_rev)" = "$IMAGE_REV" ]; then
    # cheap check that the cached image still runs
    if [ "$(dk run --rm --network none "$IMAGE" python3 -c 'import json; print("ok")' 2>/dev/null)" = ok ]; then
      log "image $IMAGE present"; return 0
    fi
    log "image $IMAGE present but broken: rebuilding"
  fi
  local B="$S/build"
  log "building $IMAGE from host files"
  build_rootfs "$B/rootfs"
  tar --numeric-owner --owner=0 --group=0 -C "$B/rootfs" -cf - . |
    dk import --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'ENV LANG=C.UTF-8' \
      --change 'CMD ["python3"]' --change "LABEL psdk.rootfs.rev=$IMAGE_REV" - "$IMAGE" >/dev/null
  rm -rf "$B"

  # verify: stdlib imports, the shell, and building FROM the image without network
  local mods='json,csv,argparse,math,random,statistics,pathlib,subprocess,hashlib,sqlite3,decimal,datetime,zoneinfo,ssl,lzma,bz2,zlib,ctypes,uuid,socket,threading,multiprocessing,tempfile,shutil,gzip,tarfile,zipfile'
  local out
  out=$(dk run --rm --network none "$IMAGE" python3 -c "import $mods, threading; t=threading.Thread(target=lambda: None); t.start(); t.join(); hashlib.sha256(b'x').hexdigest(); sqlite3.connect(':memory:').execute('select 1'); print('ok')" 2>&1) \
    || { log "python check failed: $out"; exit 1; }
  [ "$out" = ok ] || { log "python check failed: $out"; exit 1; }
  out=$(dk run --rm --network none "$IMAGE" sh -c 'echo ok') || { log "sh check failed: $out"; exit 1; }
  [ "$out" = ok ] || { log "sh check failed: $out"; exit 1; }
  mkdir -p "$B/ctx"
  printf 'FROM %s\nRUN echo built > /b.txt\n' "$IMAGE" > "$B/ctx/Dockerfile"
  out=$(dk build -q --network none -t local/psdk-build-check:1 "$B/ctx" 2>&1) || { log "docker build FROM $IMAGE failed: $out"; exit 1; }
  out=$(dk run --rm --network none local/psdk-build-check:1 cat /b.txt)
  [ "$out" = built ] || { log "built image check failed: $out"; exit 1; }
  dk rmi local/psdk-build-check:1 >/dev/null
  rm -rf "$B"
  log "image $IMAGE built and verified"
}

# A remote engine's way in, on loopback: TCP with mutual TLS (a CA, a server certificate for 127.0.0.1, a client
# certificate in STATE_DIR/tls/client laid out like DOCKER_CERT_PATH), on the first free port from 2376.
make_tls() {
  local t="$S/tls" port
  if [ ! -f "$t/client/key.pem" ]; then
    mkdir -p "$t/client"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=pipelinesdk-test-ca" -keyout "$t/ca-key.pem" -out "$t/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$t/server-key.pem" -out "$t/server.csr" 2>/dev/null
    openssl x509 -req -days 3650 -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca-key.pem" -CAcreateserial -out "$t/server-cert.pem" \
      -extfile <(printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n') 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=client" -keyout "$t/client/key.pem" -out "$t/client.csr" 2>/dev/null
    openssl x509 -req -days 3650 -in "$t/client.csr" -CA "$t/ca.pem" -CAkey "$t/ca-key.pem" -CAcreateserial -out "$t/client/cert.pem" \
      -extfile <(printf 'extendedKeyUsage=clientAuth\n') 2>/dev/null
    cp "$t/ca.pem" "$t/client/ca.pem"
    chmod 600 "$t"/*key.pem "$t/client/key.pem"
  fi
  for ((port = 2376; port < 2476; port++)); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break; done
  echo "$port" > "$S/tls-port"
}

# --- main ------------------------------------------------------------------------------------------
mkdir -p "$S"
exec 9>"$S/.lock"
flock -w 300 9 || { log "could not lock $S/.lock"; exit 1; }

case "$CMD" in
  up)
    ensure_packages
    # an engine started before the TLS listener existed is restarted with it
    if [ ! -f "$S/tls-port" ] && pid=$(dockerd_pid); then log "restarting dockerd $pid with a TLS listener"; stop_engine; fi
    if pid=$(dockerd_pid) && answers; then
      log "reusing dockerd $pid"
    else
      if [ -n "${pid:-}" ]; then # ours and alive but silent: give it a little time, else restart it
        for ((i = 0; i < 100; i++)); do answers && break; sleep 0.1; done
        if answers; then log "reusing dockerd $pid"; ready=1
        else log "dockerd $pid does not answer: restarting it"; stop_engine; fi
      fi
      [ -n "${ready:-}" ] || start_engine
    fi
    ensure_image
    printf 'DOCKER_HOST=unix://%s/docker.sock\nPIPELINESDK_DOCKER_TLS_HOST=tcp://127.0.0.1:%s\nPIPELINESDK_DOCKER_CERTS=%s/tls/client\n' \
      "$S" "$(cat "$S/tls-port")" "$S" > "$S/env.tmp" && mv "$S/env.tmp" "$S/env"
    cat "$S/env"
    ;;
  down)
    stop_engine
    ex=$(exec_root)
    [ "$ex" != "$S/exec" ] && rm -rf "$ex"
    if [ "$PURGE" = 1 ]; then rm -rf "$S/data" "$S/exec" "$S/exec-root" "$S/build"; fi
    log "down"
    ;;
  *) usage ;;
esac
