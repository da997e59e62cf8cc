#!/usr/bin/python3
"""t-48's browser half: Debian's chromium, headless, driven through chromium-driver by Selenium.

Loads the console, sends a hostile HTML message while the inbox is open, and checks what a person
would see and what must not happen: the message appears live, its scripts and event handlers do
not run, remote images are fetched only after "Show remote images", hostile header values stay
text, the attachment downloads intact, Release delivers it once to the receiving server, and the
queue, log and health pages render. A screenshot of each page goes to --shots.

Prints "ok   - ..." / "FAIL - ..." lines like lib.sh's check; exits 1 when anything failed.
"""

import argparse
import glob
import json
import os
import smtplib
import sys
import time
import urllib.request
from email.headerregistry import Address
from email.message import EmailMessage

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

p = argparse.ArgumentParser()
p.add_argument("--console", required=True, help="http://127.0.0.1:PORT")
p.add_argument("--smtp-port", type=int, required=True)
p.add_argument("--counter", required=True, help="http://127.0.0.1:PORT of the counting server")
p.add_argument("--counter-log", required=True, help="its file of requested paths")
p.add_argument("--receiver", required=True, help="the relay receiver's folder (msg-N.env)")
p.add_argument("--shots", required=True, help="folder for the screenshots")
p.add_argument("--profile", required=True, help="chromium's user data folder")
args = p.parse_args()

FAILS = 0
HOSTILE_SUBJECT = "Reset <img src=x onerror=\"document.title='PWNED'\"> \"><script>document.title='PWNED'</script> &amp;"
HOSTILE_NAME = "\"><img src=x onerror=alert(1)><script>alert(2)</script>"
ATTACHMENT = bytes(range(256)) * 8  # every byte value: a download that changed anything differs


def ok(what):
    print("ok   - " + what, flush=True)


def fail(what, detail=""):
    global FAILS
    FAILS += 1
    print("FAIL - " + what + (("\n     " + str(detail)[:2000]) if detail else ""), flush=True)


def check(what, cond, detail=""):
    if cond:
        ok(what)
    else:
        fail(what, detail)
    return cond


def requests_to(path):
    try:
        with open(args.counter_log, encoding="utf-8") as f:
            return sum(1 for line in f if line.strip().split("?")[0] == path)
    except FileNotFoundError:
        return 0


def all_requests():
    try:
        with open(args.counter_log, encoding="utf-8") as f:
            return [line.strip() for line in f]
    except FileNotFoundError:
        return []


def received():
    return sorted(glob.glob(os.path.join(args.receiver, "msg-*.env")))


def wait_until(fn, seconds=15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.1)
    return fn()


def send_hostile():
    c = args.counter
    msg = EmailMessage()
    msg["From"] = Address(display_name=HOSTILE_NAME, addr_spec="app@example.test")
    msg["To"] = "Dev <dev@remote.test>"
    msg["Subject"] = HOSTILE_SUBJECT
    msg["Message-ID"] = "<t48-hostile@example.test>"
    msg.set_content("Hello from the text part.\nSecond line.\n")
    msg.add_alternative(f"""<!doctype html>
<html><head><title>PWNED-FRAME</title>
<script>document.title='PWNED'; try {{ parent.document.title='PWNED'; }} catch (e) {{}}
fetch('{c}/script-fetch'); new Image().src='{c}/script-img'; alert('PWNED');</script>
<meta http-equiv="refresh" content="0; url={c}/meta-refresh">
</head>
<body onload="fetch('{c}/body-onload')">
<h1 id="hello">Hello from the HTML part</h1>
<p>A remote image: <img src="{c}/pixel.png" alt="remote pixel" width="1" height="1"></p>
<img src="x" onerror="fetch('{c}/img-onerror'); alert('onerror')">
<svg onload="fetch('{c}/svg-onload')"><circle r="1"/></svg>
<iframe src="javascript:fetch('{c}/iframe-js')"></iframe>
<a id="jslink" href="javascript:fetch('{c}/js-href')">a javascript: link</a>
<a href="https://app.example.test/reset?token=t48">Reset your password</a>
</body></html>
""", subtype="html")
    msg.add_attachment(ATTACHMENT, maintype="application", subtype="octet-stream",
                       filename="report.bin")
    with smtplib.SMTP("127.0.0.1", args.smtp_port, timeout=20) as s:
        s.send_message(msg, from_addr="app@example.test", to_addrs=["dev@remote.test"])


def send_simple(to, subject):
    msg = EmailMessage()
    msg["From"] = "App <app@example.test>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content("A plain message.\n")
    with smtplib.SMTP("127.0.0.1", args.smtp_port, timeout=20) as s:
        s.send_message(msg)


def no_alert(driver):
    try:
        text = driver.switch_to.alert.text
        driver.switch_to.alert.dismiss()
        return "an alert said: " + text
    except NoAlertPresentException:
        return ""


def shot(driver, name):
    path = os.path.join(args.shots, name + ".png")
    driver.save_screenshot(path)
    print("     screenshot " + path, flush=True)


def error_banner(driver):
    box = driver.find_element(By.ID, "error")
    return "" if not box.is_displayed() else box.text


def wait_css(driver, css, seconds=15):
    return WebDriverWait(driver, seconds).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, css) or False)


opts = webdriver.ChromeOptions()
for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--window-size=1280,900", "--no-first-run", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--disable-default-apps",
          "--disable-extensions", "--user-data-dir=" + args.profile]:
    opts.add_argument(a)
opts.binary_location = "/usr/bin/chromium"
opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
driver.set_page_load_timeout(20)
driver.set_script_timeout(20)
try:
    # --- the inbox, and a message that arrives while it is open ---------------------------
    driver.get(args.console + "/#/inbox")
    check("the inbox renders", wait_css(driver, "#messages tbody"))
    title = driver.title
    check("the page title names the console", "hikyaku" in title, title)
    check("live updates connected (EventSource open)",
          wait_until(lambda: driver.find_element(By.ID, "live").text == "live"),
          driver.find_element(By.ID, "live").text)
    meta = driver.find_element(By.CSS_SELECTOR, 'meta[name="csrf-token"]').get_attribute("content")
    check("the page carries a CSRF token", len(meta) >= 16, meta)
    driver.execute_script("window.t48NotReloaded = true;")
    send_hostile()
    try:
        row = WebDriverWait(driver, 15).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "#messages tbody tr[data-id]") or False)[0]
        ok("the message appeared in the inbox without a reload")
    except TimeoutException:
        row = None
        fail("the message appeared in the inbox without a reload")
    check("no reload happened", driver.execute_script("return window.t48NotReloaded === true;"))
    if row is not None:
        msg_id = row.get_attribute("data-id")
        subject = row.find_element(By.CSS_SELECTOR, "td.subject a").text
        check("the hostile Subject shows as literal text", subject == HOSTILE_SUBJECT,
              repr(subject))
        sender = row.find_element(By.CSS_SELECTOR, "td.from").text
        check("the hostile From display name shows as literal text", sender == HOSTILE_NAME,
              repr(sender))
        check("the unread message is bold", "unread" in row.get_attribute("class"))
        check("the attachment mark is shown", row.find_elements(By.CSS_SELECTOR, ".clip svg"))
    injected = driver.execute_script(
        "return document.querySelectorAll('#view img, #view script, #view iframe').length;")
    check("no element was injected into the inbox", injected == 0, injected)
    check("no alert in the inbox", not no_alert(driver), no_alert(driver))
    check("the title is unchanged", driver.title == title, driver.title)
    shot(driver, "1-inbox")

    # --- the message -----------------------------------------------------------------------
    if row is not None:
        row.find_element(By.CSS_SELECTOR, "td.subject a").click()
        frame = wait_css(driver, "#message-frame")[0]
        check("the HTML is in an iframe with sandbox=\"\" (no allow-scripts, no allow-same-origin)",
              driver.execute_script("return arguments[0].getAttribute('sandbox');", frame) == "",
              frame.get_attribute("sandbox"))
        check("the iframe loads /view/ID.html", frame.get_attribute("src").endswith(
            "/view/%s.html" % msg_id), frame.get_attribute("src"))
        time.sleep(2)  # long enough for any script, handler or image in the frame to have run
        driver.switch_to.frame(frame)
        body = driver.find_element(By.TAG_NAME, "body").text
        driver.switch_to.default_content()
        check("the iframe shows the HTML part", "Hello from the HTML part" in body, body)
        check("the message's scripts did not run: no alert", not no_alert(driver))
        # The console titles the page with the Subject (as text); a script in the frame would
        # have made it "PWNED".
        check("the message's scripts did not run: the title is the console's",
              driver.title == HOSTILE_SUBJECT + " — hikyaku", driver.title)
        check("no request reached the counting server (scripts, handlers, remote image)",
              all_requests() == [], all_requests())
        shown = driver.find_element(By.ID, "message-subject").text
        check("the message page shows the hostile Subject as text", shown == HOSTILE_SUBJECT,
              repr(shown))
        injected = driver.execute_script(
            "return document.querySelectorAll('#view img, #view script, #view iframe:not(#message-frame)').length;")
        check("no element was injected into the message page", injected == 0, injected)
        badges = driver.find_element(By.ID, "auth-badges").text
        check("a DKIM badge shows the signature (d=example.test)", "DKIM" in badges and
              "example.test" in badges, badges)
        links = driver.find_elements(By.CSS_SELECTOR, ".attachments a")
        check("the attachment is listed", len(links) == 1 and "report.bin" in links[0].text,
              [link.text for link in links])
        if links:
            href = links[0].get_attribute("href")
            check("the attachment link points at /api/v1/message/ID/part/PartID",
                  "/api/v1/message/%s/part/" % msg_id in href, href)
            with urllib.request.urlopen(href, timeout=10) as r:
                check("the attachment downloads intact", r.read() == ATTACHMENT)
        shot(driver, "2-message-html")

        driver.find_element(By.ID, "show-images").click()
        check("\"Show remote images\" fetches the remote image (once)",
              wait_until(lambda: requests_to("/pixel.png") == 1, 10), all_requests())
        time.sleep(1)
        check("still no script, handler or refresh ran after showing images",
              [r for r in all_requests() if r.split("?")[0] != "/pixel.png"] == [],
              all_requests())
        check("no alert after showing images", not no_alert(driver))
        shot(driver, "3-message-images")

        driver.find_element(By.ID, "tab-text").click()
        text = wait_css(driver, "#message-text")[0].text
        check("the Text tab shows the text part", "Hello from the text part." in text, text)
        driver.find_element(By.ID, "tab-links").click()
        links_text = wait_css(driver, "#message-links")[0].text
        check("the Links tab lists the reset link, not the javascript: one",
              "https://app.example.test/reset?token=t48" in links_text and
              "javascript" not in links_text, links_text)
        driver.find_element(By.ID, "tab-headers").click()
        headers = wait_css(driver, "#message-headers")[0].text
        check("the Headers tab lists the headers", "Message-ID" in headers or
              "Message-Id" in headers, headers[:300])
        driver.find_element(By.ID, "tab-raw").click()
        raw = WebDriverWait(driver, 10).until(
            lambda d: (lambda t: t if "Subject:" in t else False)(
                d.find_element(By.ID, "message-raw").text))
        check("the Raw tab shows the source", "report.bin" in raw, raw[:300])
        shot(driver, "4-message-raw")

        # --- release: to the original recipient, through the relay --------------------------
        driver.find_element(By.ID, "release").click()
        check("the page confirms the release", wait_until(
            lambda: driver.find_element(By.ID, "message-notice").is_displayed(), 10),
            error_banner(driver))
        check("the receiving server got the message", wait_until(lambda: len(received()) == 1, 30),
              received())
        time.sleep(3)
        got = received()
        check("... exactly once", len(got) == 1, got)
        if got:
            env = open(got[0], encoding="utf-8").read()
            check("... for the original recipient", "rcpt dev@remote.test" in env, env)
            eml = open(got[0][:-4] + ".eml", "rb").read()
            check("... with its body", b"Hello from the HTML part" in eml)
        check("no error shown on the message page", error_banner(driver) == "",
              error_banner(driver))
        shot(driver, "5-message-released")

    # --- a second message, released from the inbox's selection; the relay defers it (451) ------
    driver.get(args.console + "/#/inbox")
    wait_css(driver, "#messages tbody")
    send_simple("later@remote.test", "Deferred by the relay")
    try:
        row = WebDriverWait(driver, 15).until(lambda d: [
            r for r in d.find_elements(By.CSS_SELECTOR, "#messages tbody tr[data-id]")
            if "Deferred by the relay" in r.text] or False)[0]
        row.find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
        driver.find_element(By.ID, "release-selected").click()
        check("Release of the selection is confirmed", wait_until(
            lambda: "released" in driver.find_element(By.ID, "inbox-notice").text, 10),
            driver.find_element(By.ID, "inbox-notice").text + error_banner(driver))
    except TimeoutException:
        fail("the second message appeared in the inbox")

    # --- queue, log, health --------------------------------------------------------------------
    driver.get(args.console + "/#/queue")
    check("the queue page shows the deferred recipient with the relay's 451", wait_until(
        lambda: "later@remote.test" in driver.find_element(By.ID, "queue").text and
        "451" in driver.find_element(By.ID, "queue").text, 20),
        driver.find_element(By.ID, "queue").text + error_banner(driver))
    check("... as pending", "pending" in driver.find_element(By.ID, "queue").text)
    check("no error on the queue page", error_banner(driver) == "", error_banner(driver))
    shot(driver, "6-queue")
    qrows = driver.find_elements(By.CSS_SELECTOR, "#queue tbody tr[data-id]")
    if qrows:
        qrows[0].find_element(By.XPATH, ".//button[text()='Retry now']").click()
        check("Retry now is accepted", wait_until(
            lambda: "tried now" in driver.find_element(By.ID, "queue-notice").text, 10),
            driver.find_element(By.ID, "queue-notice").text + error_banner(driver))
        time.sleep(1)  # the attempt (answered 451 at once) is over: not in flight any more
        qrows = driver.find_elements(By.CSS_SELECTOR, "#queue tbody tr[data-id]")
        qrows[0].find_element(By.XPATH, ".//button[text()='Delete']").click()
        try:
            WebDriverWait(driver, 5).until(EC.alert_is_present()).accept()  # "Delete …?"
        except TimeoutException:
            fail("Delete asks for confirmation")
        check("the page confirms the deletion", wait_until(
            lambda: "deleted" in driver.find_element(By.ID, "queue-notice").text, 10),
            driver.find_element(By.ID, "queue-notice").text + error_banner(driver))
        check("Delete empties the queue", wait_until(
            lambda: "The queue is empty." in driver.find_element(By.ID, "queue").text, 15),
            driver.find_element(By.ID, "queue").text + error_banner(driver))

    driver.get(args.console + "/#/log")
    wait_css(driver, "#log tbody tr")
    check("the log page lists the delivery to dev@remote.test", wait_until(
        lambda: "dev@remote.test" in driver.find_element(By.ID, "log").text, 12),
        driver.find_element(By.ID, "log").text)
    check("no error on the log page", error_banner(driver) == "", error_banner(driver))
    shot(driver, "7-log")

    driver.get(args.console + "/#/health")
    wait_css(driver, "#health-listeners")
    listeners = driver.find_element(By.ID, "health-listeners").text
    check("the health page lists the listeners", "smtp" in listeners, listeners)
    certs = driver.find_elements(By.ID, "health-certificates")
    check("the health page lists the certificate", certs and "mx.test" in certs[0].text)
    check("the health page has a Test button for the relay",
          driver.find_elements(By.ID, "relay-test-0"))
    if driver.find_elements(By.ID, "relay-test-0"):
        driver.find_element(By.ID, "relay-test-0").click()
        check("the relay test reports that the relay works", wait_until(
            lambda: "works" in driver.find_element(By.ID, "relay-result-0").text, 20),
            driver.find_element(By.ID, "relay-result-0").text + error_banner(driver))
    check("no error on the health page", error_banner(driver) == "", error_banner(driver))
    shot(driver, "8-health")

    # Errors of the page's own script (not the CSP reports of what the sandbox blocked).
    js_errors = [e for e in driver.get_log("browser")
                 if e.get("level") == "SEVERE" and e.get("source") == "javascript"]
    check("no script error in the console's page", js_errors == [], js_errors)
finally:
    driver.quit()

print(json.dumps({"fails": FAILS}))
sys.exit(1 if FAILS else 0)
