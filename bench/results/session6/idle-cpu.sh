#!/bin/bash
# CPU per committed block of an idle 4+1 localnet: TREE=repo SECS=30 idle-cpu.sh TAG (process CPU from /proc, versions from get_metadata)
TAG=$1; D=${OUT:-/tmp}/idle-$TAG; rm -rf $D
cd ${TREE:-.}
nice -n 5 .venv/bin/libra localnet --data $D --port 18931 --network-port 28931 > $D.out 2>&1 &
LP=$!
for i in $(seq 1 120); do [ -f $D/localnet.json ] && break; sleep 1; done
sleep 10
PIDS=$(python3 -c "import json;d=json.load(open('$D/localnet.json'));print(' '.join(f\"{n['name']}:{n['pid']}\" for n in d['nodes']))")
cpu() { for e in $PIDS; do p=${e#*:}; awk -v n=${e%:*} '{print n, $14+$15, $14, $15}' /proc/$p/stat; done; }
ver() { curl -s -X POST -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"get_metadata","params":[]}' http://127.0.0.1:18931/v1 | python3 -c "import sys,json;print(json.load(sys.stdin)['result']['version'])"; }
cpu > $D/cpu0; V0=$(ver); T0=$(date +%s.%N)
sleep ${SECS:-30}
cpu > $D/cpu1; V1=$(ver); T1=$(date +%s.%N)
kill -INT $LP; wait $LP
python3 - $D $V0 $V1 $T0 $T1 <<'PY'
import sys
d, v0, v1, t0, t1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
a = {l.split()[0]: l.split()[1:] for l in open(d + "/cpu0")}; b = {l.split()[0]: l.split()[1:] for l in open(d + "/cpu1")}
blocks = v1 - v0  # an idle network commits one BlockMetadata per block
print(f'{t1-t0:.1f} s, {blocks} versions (blocks) = {blocks/(t1-t0):.2f}/s')
for n in a:
    ticks = int(b[n][0]) - int(a[n][0]); cpu = ticks / 100
    user = (int(b[n][1]) - int(a[n][1])) / 100; sys_ = (int(b[n][2]) - int(a[n][2])) / 100
    print(f'{n:12s} cpu {cpu:6.2f} s (user {user:.2f}, sys {sys_:.2f}) = {100*cpu/(t1-t0):5.1f}%  {1e3*cpu/max(blocks,1):6.2f} ms per block')
PY
