#!/usr/bin/env python3
"""t-47: Mailpit's /api/v1 on the console's port, against the real daemon in capture mode.

Mail goes in with smtplib; everything is read back over HTTP with urllib only, and compared with
the shapes of Mailpit's public API documentation (docs/api.md lists them). Prints one line per
check ("ok   - ..." / "FAIL - ...") and exits 1 when any failed.
"""
import email.policy
import hashlib
import http.client
import json
import os
import smtplib
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

SMTP_PORT = int(sys.argv[1])
CONSOLE_PORT = int(sys.argv[2])
RX_DIR = sys.argv[3]
BASE = f"http://127.0.0.1:{CONSOLE_PORT}"
FAILS = 0


def check(what, ok, detail=""):
    global FAILS
    if ok:
        print(f"ok   - {what}")
    else:
        FAILS += 1
        print(f"FAIL - {what}" + (f": {detail}" if detail else ""))
    sys.stdout.flush()
    return ok


def request(method, path, body=None, headers=None, timeout=30):
    """(status, headers, body bytes) of one request; never raises on an HTTP error status."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def get_json(path):
    status, _, body = request("GET", path)
    if status != 200:
        raise AssertionError(f"GET {path}: {status} {body[:200]!r}")
    return json.loads(body)


def send(msg, to=None):
    """Sends through port 25 from a trusted address (captured, not delivered); returns the bytes."""
    if "Date" not in msg:
        msg["Date"] = formatdate()
    if "Message-ID" not in msg:
        msg["Message-ID"] = make_msgid(domain="app.test")
    raw = msg.as_bytes(policy=email.policy.SMTP)
    with smtplib.SMTP("127.0.0.1", SMTP_PORT, timeout=30) as s:
        s.sendmail("bounce@app.test", to or [a.strip() for a in msg["To"].split(",")], raw)
    return raw


def text_message(subject, to="bob@far.example", frm="Alice Example <alice@app.test>"):
    m = EmailMessage()
    m["From"] = frm
    m["To"] = to
    m["Subject"] = subject
    m.set_content(f"Hello,\nthis is {subject}.\n")
    return m


def wait_count(n, query=None, seconds=10):
    deadline = time.time() + seconds
    while True:
        path = "/api/v1/messages" if query is None else "/api/v1/search?query=" + urllib.parse.quote(query)
        got = get_json(path)
        if got["messages_count"] == n or time.time() > deadline:
            return got
        time.sleep(0.1)


SUMMARY_FIELDS = {"ID", "MessageID", "Read", "From", "To", "Cc", "Bcc", "ReplyTo", "Subject",
                  "Created", "Tags", "Size", "Attachments", "Snippet"}
MESSAGE_FIELDS = {"ID", "MessageID", "From", "To", "Cc", "Bcc", "ReplyTo", "ReturnPath", "Subject",
                  "Date", "Tags", "Text", "HTML", "Size", "Inline", "Attachments"}
ATTACHMENT_FIELDS = {"PartID", "FileName", "ContentType", "ContentID", "Size"}


def is_address(a):
    return isinstance(a, dict) and set(a) == {"Name", "Address"}


def rfc3339_ms(s):
    return (isinstance(s, str) and len(s) == 24 and s[10] == "T" and s[19] == "." and s.endswith("Z"))


# ---- an empty store ----
empty = get_json("/api/v1/messages")
check("empty list: Mailpit's keys", {"total", "unread", "messages_count", "start", "messages"} <= set(empty),
      sorted(empty))
check("empty list: nothing", empty["total"] == 0 and empty["messages"] == [], empty)
status, _, body = request("GET", "/api/v1/message/latest")
check("latest of nothing: 404", status == 404, status)

# ---- mail in ----
sent = {}
for i in range(1, 6):
    sent[f"page {i}"] = send(text_message(f"page {i}"))
    time.sleep(0.01)

html = EmailMessage()
html["From"] = '"Zoë Ünïcode" <zoe@app.test>'
html["To"] = "Carol <carol@far.example>, dave@far.example"
html["Cc"] = "Erin <erin@far.example>"
html["Reply-To"] = "replies@app.test"
html["Subject"] = "Réinitialiser le mot de passe ✓"
html.set_content("Text part: reset your password.\n")
html.add_alternative('<html><body><p>Reset <b>now</b></p><img src="cid:logo@app.test">'
                     '<img src="https://remote.example/track.png"></body></html>', subtype="html")
logo = bytes(range(256)) * 4
html.get_payload()[1].add_related(logo, maintype="image", subtype="png", cid="<logo@app.test>")
pdf = os.urandom(3000) + b"\r\n.\r\n\x00end"
html.add_attachment(pdf, maintype="application", subtype="pdf", filename="Rechnung März.pdf")
sent["html"] = send(html, ["carol@far.example", "dave@far.example", "erin@far.example",
                           "hidden@far.example"])

listing = wait_count(6)
msgs = listing["messages"]
check("list: total 6, unread 6", listing["total"] == 6 and listing["unread"] == 6, listing)
check("list: start 0, messages_count 6", listing["start"] == 0 and listing["messages_count"] == 6)
check("list: every message has Mailpit's summary fields",
      all(SUMMARY_FIELDS <= set(m) for m in msgs), [sorted(m) for m in msgs[:1]])
check("list: newest first",
      [m["Subject"] for m in msgs] == ["Réinitialiser le mot de passe ✓", "page 5", "page 4",
                                       "page 3", "page 2", "page 1"],
      [m["Subject"] for m in msgs])
check("list: Created is RFC 3339 with milliseconds, descending",
      all(rfc3339_ms(m["Created"]) for m in msgs) and
      [m["Created"] for m in msgs] == sorted([m["Created"] for m in msgs], reverse=True),
      [m["Created"] for m in msgs])
h = msgs[0]
check("summary: From decoded", h["From"] == {"Name": "Zoë Ünïcode", "Address": "zoe@app.test"},
      h["From"])
check("summary: To/Cc/ReplyTo as address objects",
      all(is_address(a) for a in h["To"] + h["Cc"] + h["ReplyTo"]) and
      [a["Address"] for a in h["To"]] == ["carol@far.example", "dave@far.example"] and
      h["To"][0]["Name"] == "Carol" and h["Cc"][0]["Address"] == "erin@far.example" and
      h["ReplyTo"][0]["Address"] == "replies@app.test", h)
check("summary: Bcc = envelope recipients in no header",
      [a["Address"] for a in h["Bcc"]] == ["hidden@far.example"], h["Bcc"])
check("summary: Attachments counted, Size = stored bytes, Read false",
      h["Attachments"] >= 1 and h["Size"] >= len(sent["html"]) and h["Read"] is False, h)
check("summary: Snippet from the text", "reset your password" in h["Snippet"], h["Snippet"])
check("summary: Tags an array", h["Tags"] == [])

page = get_json("/api/v1/messages?start=1&limit=2")
check("paging: start=1 limit=2", [m["ID"] for m in page["messages"]] == [m["ID"] for m in msgs[1:3]]
      and page["start"] == 1 and page["total"] == 6, page)
page = get_json("/api/v1/messages?start=5&limit=10")
check("paging: the last page", [m["ID"] for m in page["messages"]] == [msgs[5]["ID"]])
status, _, body = request("GET", "/api/v1/messages?limit=x")
check("paging: a bad limit is 400 {Error}", status == 400 and "Error" in json.loads(body), body)

# ---- search ----
def search(q):
    return get_json("/api/v1/search?query=" + urllib.parse.quote(q))

r = search("from:zoe@app.test")
check("search from:", [m["ID"] for m in r["messages"]] == [h["ID"]] and r["messages_count"] == 1
      and r["total"] == 6, r)
r = search("to:carol")
check("search to:", [m["ID"] for m in r["messages"]] == [h["ID"]])
r = search("to:hidden@far.example")
check("search to: the envelope (Bcc)", [m["ID"] for m in r["messages"]] == [h["ID"]])
r = search('subject:"page 3"')
check("search subject:\"page 3\"", [m["Subject"] for m in r["messages"]] == ["page 3"], r)
r = search("subject:page -subject:\"page 2\"")
check("search negation", [m["Subject"] for m in r["messages"]] == ["page 5", "page 4", "page 3", "page 1"])
r = search("réinitialiser")
check("search a bare UTF-8 term (case-insensitive)", [m["ID"] for m in r["messages"]] == [h["ID"]])
r = get_json("/api/v1/search?query=" + urllib.parse.quote("subject:page") + "&start=1&limit=1")
check("search paging", [m["Subject"] for m in r["messages"]] == ["page 4"] and r["messages_count"] == 5, r)
status, hdrs, body = request("GET", "/api/v1/search?query=" + urllib.parse.quote('subject:"open'))
check("search: bad query is 400 {\"Error\": ...}", status == 400 and
      hdrs.get("Content-Type", "").startswith("application/json") and json.loads(body).get("Error"),
      (status, body))
status, _, body = request("GET", "/api/v1/search?query=foo:bar")
check("search: unknown field is 400", status == 400 and json.loads(body).get("Error"), body)

# ---- one message ----
status, hdrs, body = request("GET", f"/api/v1/message/{h['ID']}")
m = json.loads(body)
check("message: 200 JSON with Mailpit's fields", status == 200 and MESSAGE_FIELDS <= set(m),
      sorted(m))
check("message: Subject and From decoded", m["Subject"] == "Réinitialiser le mot de passe ✓"
      and m["From"]["Name"] == "Zoë Ünïcode", m["Subject"])
check("message: Text and HTML", m["Text"].startswith("Text part: reset your password.") and
      "<b>now</b>" in m["HTML"], (m["Text"], m["HTML"][:80]))
check("message: ReturnPath is MAIL FROM", m["ReturnPath"] == "bounce@app.test", m["ReturnPath"])
check("message: Date RFC 3339", rfc3339_ms(m["Date"]), m["Date"])
check("message: Inline[] has the cid image",
      len(m["Inline"]) == 1 and ATTACHMENT_FIELDS <= set(m["Inline"][0]) and
      m["Inline"][0]["ContentID"] == "logo@app.test" and m["Inline"][0]["Size"] == len(logo),
      m["Inline"])
check("message: Attachments[] has the PDF",
      len(m["Attachments"]) == 1 and ATTACHMENT_FIELDS <= set(m["Attachments"][0]) and
      m["Attachments"][0]["FileName"] == "Rechnung März.pdf" and
      m["Attachments"][0]["ContentType"] == "application/pdf" and
      m["Attachments"][0]["Size"] == len(pdf) and
      m["Attachments"][0].get("Checksums", {}).get("SHA256") == hashlib.sha256(pdf).hexdigest(),
      m["Attachments"])
check("message: Authentication[] badges (an array of Method/Result/Detail)",
      isinstance(m.get("Authentication"), list) and
      all(set(b) == {"Method", "Result", "Detail"} for b in m["Authentication"]), m.get("Authentication"))
check("message: opening it marks it read", get_json("/api/v1/messages")["unread"] == 5 and
      get_json("/api/v1/messages")["messages"][0]["Read"] is True)
latest = get_json("/api/v1/message/latest")
check("message: ID latest is the newest", latest["ID"] == h["ID"])
status, _, _ = request("GET", "/api/v1/message/NOSUCHID")
check("message: unknown ID is 404", status == 404)

hd = get_json(f"/api/v1/message/{h['ID']}/headers")
check("headers: name → [values]", isinstance(hd, dict) and all(isinstance(v, list) for v in hd.values())
      and hd.get("Reply-To") == ["replies@app.test"] and "Received" in hd, sorted(hd))
check("headers: in alphabetical order", list(hd) == sorted(hd, key=str.lower), list(hd))

status, hdrs, raw = request("GET", f"/api/v1/message/{h['ID']}/raw")
check("raw: text/plain", status == 200 and hdrs.get("Content-Type", "").startswith("text/plain"),
      hdrs.get("Content-Type"))
check("raw: the bytes sent, after the headers we added", raw.endswith(sent["html"]) and
      raw[: len(raw) - len(sent["html"])].startswith(b"Received: ") and
      b"\r\n\r\n" not in raw[: len(raw) - len(sent["html"])], raw[:300])
p1 = next(x for x in msgs if x["Subject"] == "page 1")
status, _, raw1 = request("GET", f"/api/v1/message/{p1['ID']}/raw")
check("raw: a plain message too", raw1.endswith(sent["page 1"]), raw1[-200:])

part = m["Attachments"][0]["PartID"]
status, hdrs, data = request("GET", f"/api/v1/message/{h['ID']}/part/{part}")
check("part: the PDF's bytes", status == 200 and data == pdf, (status, len(data)))
check("part: its type", hdrs.get("Content-Type") == "application/pdf", hdrs.get("Content-Type"))
cd = hdrs.get("Content-Disposition", "")
check("part: Content-Disposition attachment, filename* UTF-8",
      cd.startswith("attachment;") and "filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf" in cd, cd)
check("part: nosniff", hdrs.get("X-Content-Type-Options") == "nosniff")
status, _, data = request("GET", f"/api/v1/message/latest/part/{m['Inline'][0]['PartID']}")
check("part: the inline image (ID latest)", status == 200 and data == logo, status)
status, _, _ = request("GET", f"/api/v1/message/{h['ID']}/part/99")
check("part: unknown part is 404", status == 404)

# ---- the views ----
status, hdrs, body = request("GET", f"/view/{h['ID']}.html")
csp = hdrs.get("Content-Security-Policy", "")
check("view.html: text/html", status == 200 and hdrs.get("Content-Type", "").startswith("text/html"))
check("view.html: cid: points at the part URL",
      f'src="/api/v1/message/{h["ID"]}/part/{m["Inline"][0]["PartID"]}"'.encode() in body, body[:300])
check("view.html: CSP sandbox, no scripts, no remote images",
      csp.startswith("sandbox") and "allow-scripts" not in csp and "script-src 'none'" in csp and
      "default-src 'none'" in csp and "http:" not in csp and "frame-ancestors 'self'" in csp, csp)
check("view.html: X-Frame-Options SAMEORIGIN", hdrs.get("X-Frame-Options") == "SAMEORIGIN")
status, hdrs, _ = request("GET", f"/view/{h['ID']}.html?images=1")
csp = hdrs.get("Content-Security-Policy", "")
check("view.html?images=1: remote images allowed, still no scripts",
      "img-src 'self' data: http: https:" in csp and "script-src 'none'" in csp, csp)
status, hdrs, body = request("GET", "/view/latest.txt")
check("view.txt: the text body", status == 200 and body.startswith(b"Text part: reset your password."),
      body[:80])
status, _, _ = request("GET", f"/view/{p1['ID']}.html")
check("view.html of a text-only message: 404", status == 404)

info = get_json("/api/v1/info")
check("info: Version, Messages, Unread", info.get("Messages") == 6 and info.get("Unread") == 5
      and info.get("Version"), info)

# ---- read flag ----
status, _, body = request("PUT", "/api/v1/messages", {"IDs": [p1["ID"]], "Read": True})
check("PUT messages Read: ok", status == 200 and body == b"ok", (status, body))
check("  … marked read", get_json("/api/v1/messages")["unread"] == 4)
status, _, _ = request("PUT", "/api/v1/messages", {"Read": False})
check("PUT messages without IDs: all unread again", get_json("/api/v1/messages")["unread"] == 6)
status, _, body = request("PUT", "/api/v1/messages", b"{not json")
check("PUT messages with bad JSON: 400 {Error}", status == 400 and json.loads(body).get("Error"), body)

# ---- live events, wait ----
events = []
stream_ok = threading.Event()


def read_events():
    conn = http.client.HTTPConnection("127.0.0.1", CONSOLE_PORT, timeout=20)
    conn.request("GET", "/api/hikyaku/events")
    resp = conn.getresponse()
    if resp.status == 200 and resp.getheader("Content-Type", "").startswith("text/event-stream"):
        stream_ok.set()
    event = None
    try:
        while True:
            line = resp.readline()
            if not line:
                return
            line = line.decode().rstrip("\r\n")
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event:
                events.append((event, json.loads(line[5:].strip())))
                if event == "new":
                    return
    except Exception as e:  # noqa: BLE001 — a timeout ends the reader; the checks below report it
        events.append(("error", str(e)))


reader = threading.Thread(target=read_events, daemon=True)
reader.start()
time.sleep(0.5)

waited = {}


def wait_call(path, key):
    t0 = time.time()
    status, _, body = request("GET", path, timeout=40)
    waited[key] = (status, body, time.time() - t0)


since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
w1 = threading.Thread(target=wait_call, args=(
    "/api/hikyaku/wait?timeout=20&since=" + since + "&query=" + urllib.parse.quote("subject:waited-for"),
    "hit"))
w2 = threading.Thread(target=wait_call, args=(
    "/api/hikyaku/wait?timeout=1.5&query=" + urllib.parse.quote("subject:never-sent"), "miss"))
w1.start()
w2.start()
time.sleep(1)
send(text_message("waited-for reset mail", to="frank@far.example"))
w1.join(30)
w2.join(30)
reader.join(10)

st, body, took = waited.get("hit", (0, b"", 0))
hit = json.loads(body) if st == 200 else {}
check("wait: the message sent 1 s after the call", st == 200 and
      hit.get("Subject") == "waited-for reset mail" and SUMMARY_FIELDS <= set(hit) and 0.8 < took < 10,
      (st, body[:200], took))
st, body, took = waited.get("miss", (0, b"", 0))
check("wait: 408 {Error} after the timeout", st == 408 and json.loads(body).get("Error") and
      1.3 < took < 6, (st, body, took))
status, _, body = request("GET", "/api/hikyaku/wait?timeout=301")
check("wait: a timeout over 300 s is 400", status == 400, (status, body))
status, _, body = request("GET", "/api/hikyaku/wait?since=yesterday")
check("wait: a bad since is 400", status == 400, (status, body))
check("events: text/event-stream", stream_ok.is_set())
news = [d for e, d in events if e == "new"]
check("events: a new event with the summary", len(news) == 1 and
      news[0].get("Subject") == "waited-for reset mail" and SUMMARY_FIELDS <= set(news[0]), events)

# ---- release → the relay, exactly once ----
def received():
    return sorted(f for f in os.listdir(RX_DIR) if f.endswith(".env"))


p2 = next(x for x in msgs if x["Subject"] == "page 2")
status, hdrs, body = request("POST", f"/api/v1/message/{p2['ID']}/release")
queue_id = hdrs.get("X-Hikyaku-Queue-Id", "")
check("release (no body): ok with the queue ID", status == 200 and body == b"ok" and queue_id,
      (status, body, dict(hdrs)))
deadline = time.time() + 20
while len(received()) < 1 and time.time() < deadline:
    time.sleep(0.2)
time.sleep(1.5)  # a second delivery would show by now
rx = received()
env = open(os.path.join(RX_DIR, rx[0])).read() if rx else ""
eml = open(os.path.join(RX_DIR, rx[0].replace(".env", ".eml")), "rb").read() if rx else b""
check("release: delivered to the relay exactly once", len(rx) == 1, rx)
check("release: to the original recipient", "rcpt bob@far.example" in env, env)
check("release: the captured bytes", eml.endswith(sent["page 2"]), eml[-200:])
status, _, _ = request("GET", f"/api/v1/message/{p2['ID']}")
check("release: the capture copy is gone", status == 404)

p3 = next(x for x in msgs if x["Subject"] == "page 3")
status, hdrs, body = request("POST", f"/api/v1/message/{p3['ID']}/release",
                             {"To": ["grace@other.example"]})
check("release {To: [...]}: ok", status == 200 and body == b"ok" and hdrs.get("X-Hikyaku-Queue-Id"),
      (status, body))
deadline = time.time() + 20
while len(received()) < 2 and time.time() < deadline:
    time.sleep(0.2)
rx = received()
env2 = open(os.path.join(RX_DIR, rx[1])).read() if len(rx) > 1 else ""
check("release: to the given recipient only", "rcpt grace@other.example" in env2 and
      "rcpt bob@far.example" not in env2, env2)
status, _, body = request("POST", f"/api/v1/message/{p1['ID']}/release", {"To": ["not an address"]})
check("release: a bad address is 400 {Error}, the message kept", status == 400 and
      json.loads(body).get("Error") and request("GET", f"/api/v1/message/{p1['ID']}")[0] == 200,
      (status, body))
status, _, body = request("POST", f"/api/v1/message/{p1['ID']}/release", {"To": "x@y.example"})
check("release: To not an array is 400", status == 400, (status, body))
status, _, _ = request("POST", "/api/v1/message/NOSUCHID/release")
check("release: unknown ID is 404", status == 404)
time.sleep(1)
check("release: nothing else reached the relay", len(received()) == 2, received())

# ---- delete ----
before = get_json("/api/v1/messages")
status, _, body = request("DELETE", "/api/v1/messages", {"IDs": [p1["ID"]]})
after = get_json("/api/v1/messages")
check("DELETE {IDs}: ok, one fewer", status == 200 and body == b"ok" and
      after["total"] == before["total"] - 1 and p1["ID"] not in [x["ID"] for x in after["messages"]],
      (status, body, before["total"], after["total"]))
status, _, body = request("DELETE", "/api/v1/search?query=" + urllib.parse.quote("subject:page"))
after = get_json("/api/v1/messages")
check("DELETE search: the matches only", status == 200 and
      [x["Subject"] for x in after["messages"]] == ["waited-for reset mail",
                                                   "Réinitialiser le mot de passe ✓"],
      [x["Subject"] for x in after["messages"]])
status, _, _ = request("DELETE", "/api/v1/search?query=")
check("DELETE search without a query: 400", status == 400)
status, _, body = request("DELETE", "/api/v1/messages")
after = get_json("/api/v1/messages")
check("DELETE without a body: all", status == 200 and after["total"] == 0 and after["messages"] == [],
      after)

print(f"api checks: {FAILS} failed")
sys.exit(1 if FAILS else 0)
