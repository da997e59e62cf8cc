#!/usr/bin/env bash
# The web console in a real browser: Debian's headless Chromium, driven through chromium-driver by
# Selenium (browser.py), against the real daemon with capture on and the console on loopback.
# A hostile HTML message (scripts, event handlers, a remote image, hostile Subject and From
# display name, an attachment) is sent while the inbox is open: it must appear live; its scripts
# and handlers must not run and the remote image must not be fetched (a loopback HTTP server
# counts every request) until "Show remote images" is clicked; header values stay text; Release
# delivers it exactly once to an aiosmtpd receiver configured as the relay; the queue, log and
# health pages render.
# Screenshots of every page are kept in $HK_ARTIFACTS (default: <build>/test-artifacts/t-48/,
# beside build/bin), replaced on each run.
# Runs in a network namespace of its own: the browser can reach nothing but loopback.
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"

SHOTS=${HK_ARTIFACTS:-$(cd "$HK_BIN/.." && pwd)/test-artifacts}/t-48
rm -rf "$SHOTS"
mkdir -p "$SHOTS"

for tool in /usr/bin/chromium /usr/bin/chromedriver; do
  [ -x "$tool" ] || { echo "missing $tool: run deploy/install-deps.sh --test"; exit 1; }
done

# The relay: a real SMTP server that stores what it gets.
start_receiver relay 127.0.0.1 0
RX_PORT=$(cat "$T/rx/relay.port")

# The counting server: every request's path goes to $T/counter.log; /pixel.png is a 1x1 PNG.
"$PY" - "$T/counter.log" >"$T/counter.port" 2>"$T/counter.err" <<'PY' &
import base64, http.server, sys
log = sys.argv[1]
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log, "a") as f:
            f.write(self.path + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(PNG)
    do_POST = do_GET
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.timeout = 1
import time
end = time.monotonic() + 150
while time.monotonic() < end:
    s.handle_request()
PY
for _ in $(seq 1 50); do [ -s "$T/counter.port" ] && break; sleep 0.1; done
COUNTER_PORT=$(cat "$T/counter.port")

TRUSTED='["127.0.0.0/8"]' write_config \
  '[capture]' 'enabled = true' \
  '[[relay]]' 'host = "127.0.0.1"' "port = $RX_PORT" 'tls = "none"'
sed -i 's/^\[listen\]$/[listen]\nconsole = ["127.0.0.1:0"]/' "$ETC/hikyaku.toml"
setup_domains
"$HK_BIN/hikyaku-util" -C "$ETC" dkim-keygen example.test --selector=t48 --algo=ed25519 >/dev/null
start_daemon
wait_console_port || true
check "the console listens" test -n "$CONSOLE_PORT"

rc=0
timeout -k 5 120 "$PY" "$HK_SRC/tests/integration/t-48-console-browser/browser.py" \
  --console "http://127.0.0.1:$CONSOLE_PORT" --smtp-port "$SMTP_PORT" \
  --counter "http://127.0.0.1:$COUNTER_PORT" --counter-log "$T/counter.log" \
  --receiver "$T/rx/relay" --shots "$SHOTS" --profile "$T/chromium" >"$T/browser.out" 2>&1 || rc=$?
# browser.py's own ok/FAIL lines, counted with ours.
while IFS= read -r line; do
  case "$line" in
    "ok   - "*) pass "${line#ok   - }" ;;
    "FAIL - "*) fail "${line#FAIL - }" ;;
    *) echo "$line" ;;
  esac
done <"$T/browser.out"
check "browser.py finished (exit $rc)" test "$rc" = 0
check "screenshots kept in $SHOTS" test "$(find "$SHOTS" -name '*.png' | wc -l)" -ge 6
finish
