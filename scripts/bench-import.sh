#!/usr/bin/env bash
# Times `flotilla import bulk` of a generated Mattermost bulk file with a release build.
#   bash scripts/bench-import.sh [POSTS]      (default 100000; figures: docs/performance.md)
# FLOTILLA_BIN=path skips the release build and times that binary.
# Generates POSTS posts (a fifth of them replies, some reactions) in 10 channels by 20 users,
# starts a node in a temp dir, makes its admin, imports, and prints the time and rate.
set -euo pipefail
POSTS="${1:-100000}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
if [ -z "${FLOTILLA_BIN:-}" ]; then
    cargo build --release -q -p flotilla-node --bin flotilla
fi
BIN="${FLOTILLA_BIN:-$CARGO_TARGET_DIR/release/flotilla}"
TMP="$(mktemp -d)"
trap 'kill "$NODE" 2>/dev/null || true; wait "$NODE" 2>/dev/null || true; rm -rf "$TMP"' EXIT

python3 - "$POSTS" > "$TMP/import.jsonl" <<'PY'
import json, sys
posts = int(sys.argv[1])
out = sys.stdout
def line(kind, obj):
    out.write(json.dumps({"type": kind, kind: obj}, ensure_ascii=False) + "\n")
out.write('{"type":"version","version":1}\n')
line("team", {"name": "bench", "display_name": "Bench", "type": "O"})
channels = ["town-square"] + [f"canal-{i}" for i in range(9)]
for c in channels:
    line("channel", {"team": "bench", "name": c, "type": "O", "header": "Météo ⛵"})
for u in range(20):
    line("user", {"username": f"marin{u}", "roles": "system_user",
                  "teams": [{"name": "bench", "channels": [{"name": "town-square"}]}]})
t0 = 1_700_000_000_000
written, i = 0, 0
while written < posts:
    replies = []
    for r in range(min(1 if i % 4 == 0 else 0, posts - written - 1)):
        replies.append({"user": f"marin{(i + 1) % 20}", "message": f"réponse {i}",
                        "create_at": t0 + i * 1000 + 500})
    post = {"team": "bench", "channel": channels[i % 10], "user": f"marin{i % 20}",
            "message": f"message {i} : bonne brise, cap au 270 🌊", "create_at": t0 + i * 1000,
            "replies": replies}
    if i % 10 == 0:
        post["reactions"] = [{"user": f"marin{(i + 3) % 20}", "emoji_name": "+1",
                              "create_at": t0 + i * 1000 + 10}]
    line("post", post)
    written += 1 + len(replies)
    i += 1
PY

"$BIN" --data-dir "$TMP/node" serve --http 127.0.0.1:0 --no-mdns --listen /ip4/127.0.0.1/tcp/0 \
    > "$TMP/serve.log" 2>&1 &
NODE=$!
for _ in $(seq 100); do [ -S "$TMP/node/admin.sock" ] && break; sleep 0.1; done
FLOTILLA_PASSWORD='a long passphrase' "$BIN" --data-dir "$TMP/node" user create --username capitaine --admin
"$BIN" --data-dir "$TMP/node" import bulk "$TMP/import.jsonl" --validate
START=$(date +%s.%N)
"$BIN" --data-dir "$TMP/node" import bulk "$TMP/import.jsonl"
END=$(date +%s.%N)
python3 -c "s=$END-$START; print(f'import of $POSTS posts: {s:.1f} s, {$POSTS/s:.0f} posts/s')"
START=$(date +%s.%N)
"$BIN" --data-dir "$TMP/node" import bulk "$TMP/import.jsonl" | tail -1
END=$(date +%s.%N)
python3 -c "s=$END-$START; print(f'second import (nothing added): {s:.1f} s')"
du -sh "$TMP/node" | sed 's/^/data dir: /'
