#!/usr/bin/env bash
# Single-node SLURM cluster for CI / local tests on Debian 12 (Slurm 22.05), run as root,
# no systemd, no cgroups.  Everything except the packages and munge lives under $SLURM_LOCAL_DIR.
#
#   slurm-local.sh install   # apt-get packages (slurm + munge [+ slurmdbd + mariadb])
#   slurm-local.sh start     # write configs, start munged [mariadbd slurmdbd] slurmctld slurmd
#   slurm-local.sh env       # print `export SLURM_CONF=...` for clients (sbatch/squeue/sacct)
#   slurm-local.sh stop      # stop the daemons this script started (by pid file), reverse order
#
# WITH_DBD=1 also starts MariaDB + slurmdbd so that real `sacct` works; WITH_DBD=0 (default here:
# sgdnoise decides from result files, not accounting) is lighter: sacct then only works as
# `sacct -c` (jobcomp/filetxt log).
#
# sgdnoise's SLURM tests (crates/sgdnoise-cli/tests/it/slurm.rs):
#   bash ci/slurm-local.sh install && bash ci/slurm-local.sh start
#   eval "$(bash ci/slurm-local.sh env)"
#   cargo test --release -p sgdnoise-cli --test it slurm -- --include-ignored
#   bash ci/slurm-local.sh stop
#
# From docs/notes slurm-and-storage.md, Appendix A (tested on Debian 12, Slurm 22.05).
set -euo pipefail

BASE=${SLURM_LOCAL_DIR:-/tmp/sgdnoise-slurm}
WITH_DBD=${WITH_DBD:-0}
CPUS=${SLURM_LOCAL_CPUS:-$(nproc)}          # may exceed real cores (config_overrides)
MEM_MB=${SLURM_LOCAL_MEM_MB:-4000}           # declared memory (not enforced: no cgroups)
CTLD_PORT=${SLURM_LOCAL_CTLD_PORT:-6817}
SLURMD_PORT=${SLURM_LOCAL_SLURMD_PORT:-6818}
DBD_PORT=${SLURM_LOCAL_DBD_PORT:-6819}
DB_PORT=${SLURM_LOCAL_DB_PORT:-3307}
NODE=$(hostname -s)
export SLURM_CONF=$BASE/etc/slurm.conf

log() { echo "[slurm-local] $*" >&2; }

wait_for() {  # wait_for SECONDS DESCRIPTION CMD...
  local t=$1 what=$2; shift 2
  local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS >= end )); then log "timeout waiting for $what"; return 1; fi
    sleep 0.5
  done
}

do_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  local pkgs=(slurmctld slurmd slurm-client munge)
  [[ $WITH_DBD == 1 ]] && pkgs+=(slurmdbd mariadb-server)
  # Debian's postinst tries to start services; with no init system this is refused harmlessly.
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
}

write_configs() {
  mkdir -p "$BASE"/{etc,state,spool,log,run,munge,mysql}
  cat >"$BASE/etc/slurm.conf" <<EOF
ClusterName=ci
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$BASE/munge/munge.socket
CredType=cred/munge
MpiDefault=none
# No cgroups: track job processes via /proc, no containment/affinity.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
# Start queued tasks as soon as resources free up (default batch_sched_delay is 3 s).
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
# Allow declaring more CPUs than the machine has (more concurrent tasks in tests).
SlurmdParameters=config_overrides
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
StateSaveLocation=$BASE/state
SlurmdSpoolDir=$BASE/spool
SlurmctldPidFile=$BASE/run/slurmctld.pid
SlurmdPidFile=$BASE/run/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
JobCompType=jobcomp/filetxt
JobCompLoc=$BASE/log/jobcomp.txt
EOF
  if [[ $WITH_DBD == 1 ]]; then
    cat >>"$BASE/etc/slurm.conf" <<EOF
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT
# For slurmdbd connections the munge socket is taken from here, not from AuthInfo.
AccountingStoragePass=$BASE/munge/munge.socket
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
EOF
    cat >"$BASE/etc/slurmdbd.conf" <<EOF
AuthType=auth/munge
AuthInfo=socket=$BASE/munge/munge.socket
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=root
LogFile=$BASE/log/slurmdbd.log
PidFile=$BASE/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=slurm-ci
StorageLoc=slurm_acct_db
EOF
    chmod 600 "$BASE/etc/slurmdbd.conf"   # slurmdbd refuses a world-readable config
  else
    cat >>"$BASE/etc/slurm.conf" <<EOF
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
EOF
  fi
  cat >>"$BASE/etc/slurm.conf" <<EOF
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munge() {
  # Private munged (own key + socket) so it cannot clash with a system munge.
  local key=$BASE/munge/munge.key
  [[ -f $key ]] || { dd if=/dev/urandom of="$key" bs=1024 count=1 status=none; }
  chmod 755 "$BASE/munge"; chmod 400 "$key"
  /usr/sbin/munged --force --key-file="$key" --socket="$BASE/munge/munge.socket" \
    --pid-file="$BASE/run/munged.pid" --log-file="$BASE/log/munged.log" \
    --seed-file="$BASE/munge/munged.seed"
  wait_for 10 munged sh -c "munge -S '$BASE/munge/munge.socket' -n | unmunge -S '$BASE/munge/munge.socket'"
}

start_db() {
  if [[ ! -d $BASE/mysql/mysql ]]; then
    mariadb-install-db --user=root --datadir="$BASE/mysql" --skip-test-db \
      --auth-root-authentication-method=socket >"$BASE/log/mariadb-install.log" 2>&1
  fi
  mariadbd --user=root --datadir="$BASE/mysql" --socket="$BASE/run/mysql.sock" \
    --pid-file="$BASE/run/mysql.pid" --port="$DB_PORT" --bind-address=127.0.0.1 \
    --log-error="$BASE/log/mariadb.err" --innodb-buffer-pool-size=128M \
    --innodb-lock-wait-timeout=900 </dev/null >/dev/null 2>&1 &
  wait_for 60 mariadb mariadb --socket="$BASE/run/mysql.sock" -u root -e 'SELECT 1'
  mariadb --socket="$BASE/run/mysql.sock" -u root -e "
    CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm-ci';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; FLUSH PRIVILEGES;"
  /usr/sbin/slurmdbd   # reads slurmdbd.conf next to $SLURM_CONF; daemonizes
  wait_for 60 slurmdbd sacctmgr -n show cluster
}

do_start() {
  write_configs
  start_munge
  [[ $WITH_DBD == 1 ]] && start_db
  /usr/sbin/slurmctld        # registers cluster "ci" in slurmdbd by itself
  wait_for 30 slurmctld scontrol ping
  /usr/sbin/slurmd
  wait_for 60 "node idle" sh -c '[ "$(sinfo -h -N -o %t)" = idle ]'
  log "up: $(sinfo -h -N -o '%N %t cpus=%c') (export SLURM_CONF=$SLURM_CONF)"
}

stop_pid() {  # stop_pid NAME PIDFILE
  local f=$2 p
  [[ -f $f ]] || return 0
  p=$(cat "$f")
  if kill "$p" 2>/dev/null; then
    for _ in $(seq 60); do
      # a reaped process is gone; a zombie shows as state Z
      [[ -e /proc/$p ]] && [[ $(awk '{print $3}' /proc/$p/stat 2>/dev/null) != Z ]] || break
      sleep 0.5
    done
    log "stopped $1 ($p)"
  fi
  rm -f "$f"
}

do_stop() {
  stop_pid slurmd "$BASE/run/slurmd.pid"
  stop_pid slurmctld "$BASE/run/slurmctld.pid"
  stop_pid slurmdbd "$BASE/run/slurmdbd.pid"
  stop_pid mariadbd "$BASE/run/mysql.pid"
  stop_pid munged "$BASE/run/munged.pid"
}

case ${1:-} in
  install) do_install ;;
  start) do_start ;;
  stop) do_stop ;;
  env) echo "export SLURM_CONF=$SLURM_CONF" ;;
  ping) scontrol ping ;;
  *) echo "usage: $0 install|start|stop|env|ping" >&2; exit 2 ;;
esac
