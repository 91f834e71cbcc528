#!/usr/bin/env bash
# configs/slurm-batch.sh on a real Slurm: a one-node cluster on localhost (munged, slurmctld and
# slurmd from Debian's slurm-wlm and munge, with their own config, key, state and ports in a
# temporary folder), an array of 3 tasks over a small batch, cancelled with scancel while it
# runs, submitted again, and the merged manifests checked: every job done exactly once.
#
#   tests/slurm/slurm_array_test.sh INKGEN_BINARY
#
# Exit 0: passed; 1: failed; 77: skipped, saying why (no Slurm or munge installed, not root, or
# the daemons cannot start here). .ci/install-deps installs the packages.
set -uo pipefail

inkgen=${1:?usage: $0 INKGEN_BINARY}
inkgen=$(cd "$(dirname "$inkgen")" && pwd)/$(basename "$inkgen")
here=$(cd "$(dirname "$0")/../.." && pwd)
skip() { echo "skipped: $*"; exit 77; }
fail() { echo "FAILED: $*"; show_logs; exit 1; }

for tool in munged slurmctld slurmd sbatch squeue scancel sinfo; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install slurm-wlm munge)"
done
[ "$(id -u)" -eq 0 ] || skip "the test starts slurmd, which needs root"

tmp=$(mktemp -d /tmp/inkgen-slurm-XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  sleep 1
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
show_logs() {
  for f in "$tmp"/slurmctld.log "$tmp"/slurmd.log "$tmp"/munged.log "$tmp"/task-*.log; do
    [ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }
  done
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# munge, with its own key and socket (not the system's).
mkdir -p "$tmp/munge"
chmod 700 "$tmp/munge"
head -c 1024 /dev/urandom >"$tmp/munge/munge.key"
chmod 400 "$tmp/munge/munge.key"
munged --force --key-file="$tmp/munge/munge.key" --socket="$tmp/munge/munge.sock" \
  --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/munged.log" \
  --seed-file="$tmp/munge/munge.seed" >/dev/null 2>&1 ||
  skip "munged does not start here: $(tail -n 1 "$tmp/munged.log" 2>/dev/null)"
pids+=("$(cat "$tmp/munge/munged.pid")")

host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$tmp/state" "$tmp/spool"
export SLURM_CONF="$tmp/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=inkgentest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge/munge.sock
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
KillWait=5
NodeName=$host CPUs=$cpus RealMemory=1000 State=UNKNOWN
PartitionName=inkgen Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF

slurmctld -D -i >/dev/null 2>&1 &
pids+=($!)
slurmd -D >/dev/null 2>&1 &
pids+=($!)
up=
for _ in $(seq 60); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then up=1; break; fi
  sleep 1
done
[ -n "$up" ] || { show_logs; skip "the one-node cluster did not come up in 60 s (see the logs above)"; }
echo "cluster up: $(sinfo -h -o '%P %T %c CPUs' | head -1)"

# A small batch: 6 noise jobs of the bundled model, long enough to be cancelled while running.
out="$tmp/out"
printf '{"mode": "maximize", "source": "noise", "count": 6, "steps": 150}\n' >"$tmp/jobs.jsonl"
submit() {
  # The script asks for a GPU, 4 CPUs and 16 GB; this cluster has neither GPUs nor that memory.
  INKGEN="$inkgen" sbatch --parsable --array=0-2 --gres=none -c 1 --mem=200M \
    --output="$tmp/task-%A_%a.log" --chdir="$tmp" \
    "$here/configs/slurm-batch.sh" "$tmp/jobs.jsonl" "$out" --quiet --threads 1
}
array_done() { [ -z "$(squeue -h -j "$1" 2>/dev/null)" ]; }
done_lines() { cat "$out"/manifest*.jsonl 2>/dev/null | grep -c '"status":"done"'; }

first=$(submit) || fail "sbatch refused the array"
echo "submitted array $first"
# Cancel once some job is done and the array still runs.
for _ in $(seq 300); do
  [ "$(done_lines)" -ge 1 ] && break
  array_done "$first" && break
  sleep 0.5
done
array_done "$first" && fail "the array ended before it could be cancelled (no job took long enough)"
scancel "$first"
for _ in $(seq 60); do array_done "$first" && break; sleep 1; done
array_done "$first" || fail "scancel did not end the array in 60 s"
after_cancel=$(done_lines)
interrupted=$(cat "$out"/manifest*.jsonl | grep -c '"status":"interrupted"')
echo "cancelled after $after_cancel of 6 jobs done, $interrupted recorded as interrupted"
[ "$after_cancel" -lt 6 ] || fail "every job was done before scancel: nothing left to resume"

second=$(submit) || fail "sbatch refused the resubmission"
echo "resubmitted as $second"
for _ in $(seq 600); do array_done "$second" && break; sleep 1; done
array_done "$second" || fail "the resubmitted array did not end in 10 minutes"

status=$("$inkgen" batch "$tmp/jobs.jsonl" --out "$out" --status --json) ||
  fail "inkgen batch --status failed: $status"
python3 - "$out" "$status" <<'EOF' || fail "the merged manifests are not every job done once"
import collections, glob, json, sys
out, status = sys.argv[1], json.loads(sys.argv[2])
done = collections.Counter()
for path in glob.glob(out + "/manifest*.jsonl"):
    for line in open(path):
        line = line.strip()
        if line:
            record = json.loads(line)
            if record["status"] == "done":
                done[record["key"]] += 1
keys = sorted(done)
print(f"{len(keys)} jobs done, each {set(done.values())} time(s); status: {status.get('done')} done")
assert len(keys) == 6, keys
assert set(done.values()) == {1}, done
assert status.get("done") == 6 and status.get("pending", 0) == 0, status
EOF
echo "passed: array of 3 cancelled after $after_cancel/6 jobs ($interrupted interrupted), resubmitted, every job done once"
