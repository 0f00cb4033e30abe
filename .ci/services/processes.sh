# Sourced by docker.sh and slurm.sh: daemons are recognised and stopped by their recorded PID only.
# The caller defines log().

is_pid_of() { # is_pid_of PID NAME: PID is alive (not a zombie) and its command name is NAME
  local pid=$1 name=$2 st
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$name" ] || return 1
  st=$(awk '/^State:/{print $2}' /proc/"$pid"/status 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

stop_pid() { # stop_pid PID NAME SECONDS: SIGTERM, wait, then SIGKILL
  local pid=$1 name=$2 secs=$3 i
  is_pid_of "$pid" "$name" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < secs * 10; i++)); do is_pid_of "$pid" "$name" || return 0; sleep 0.1; done
  log "$name $pid did not stop in ${secs}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do is_pid_of "$pid" "$name" || return 0; sleep 0.1; done
}
