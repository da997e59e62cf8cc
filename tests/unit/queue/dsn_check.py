#!/usr/bin/python3
"""Checks that a DSN read from stdin parses as RFC 6522 multipart/report carrying an RFC 3464
(or RFC 6533 global) delivery status, with Python's independent `email` parser.

Usage: dsn_check.py < dsn.eml    Exit status 0 when valid; 1 with the reasons on stderr.
"""

import email
import email.parser
import email.policy
import email.utils
import re
import sys

STATUS = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")
ACTIONS = {"failed", "delayed", "delivered", "relayed", "expanded"}  # RFC 3464 §2.3.3


def status_blocks(part, errors):
    """The field groups of a delivery-status part: per-message first, then one per recipient."""
    payload = part.get_payload()
    if isinstance(payload, list) and part.get_content_type() == "message/delivery-status":
        return payload
    # `email` parses message/global-delivery-status like message/rfc822: the per-message group
    # becomes the headers of one message and the recipient groups its body.
    if not (isinstance(payload, list) and len(payload) == 1):
        errors.append(f"{part.get_content_type()} part not parsed as fields")
        return []
    first = payload[0]
    body = first.get_payload()
    if not isinstance(body, str):
        errors.append("delivery-status recipient groups not parsed")
        return [first]
    parser = email.parser.HeaderParser(policy=email.policy.compat32)
    text = body.replace("\r\n", "\n").strip("\n")
    return [first] + [parser.parsestr(b + "\n") for b in text.split("\n\n") if b]


def check(raw):
    errors = []
    for number, line in enumerate(raw.split(b"\r\n"), 1):
        if len(line) > 998:  # RFC 5322 §2.1.1
            errors.append(f"line {number} is {len(line)} octets long")
        if b"\n" in line or b"\r" in line:
            errors.append(f"line {number} has a bare CR or LF")
    if not raw.endswith(b"\r\n"):
        errors.append("message does not end with CRLF")

    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    if msg.defects:
        errors.append(f"message defects: {msg.defects}")
    for header in ("From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted"):
        if msg[header] is None:
            errors.append(f"missing {header}:")
    if not msg.is_multipart():
        errors.append("not multipart")
        return errors
    if msg.get_content_type() != "multipart/report":
        errors.append(f"content type {msg.get_content_type()}")
    report_type = msg.get_param("report-type")
    if report_type not in ("delivery-status", "global-delivery-status"):
        errors.append(f"report-type {report_type!r}")

    parts = msg.get_payload()
    if len(parts) != 3:
        errors.append(f"{len(parts)} parts instead of 3")
        return errors
    for part in parts:
        if part.defects:
            errors.append(f"{part.get_content_type()} defects: {part.defects}")
    if parts[0].get_content_type() != "text/plain":
        errors.append(f"part 1 is {parts[0].get_content_type()}")
    if parts[1].get_content_type() != "message/" + str(report_type):
        errors.append(f"part 2 is {parts[1].get_content_type()}, report-type {report_type}")
    third = parts[2].get_content_type()
    if third not in ("message/rfc822", "message/global", "text/rfc822-headers",
                     "message/global-headers"):
        errors.append(f"part 3 is {third}")

    blocks = status_blocks(parts[1], errors)
    if len(blocks) < 2:
        errors.append(f"delivery-status has {len(blocks)} field groups, need 2 or more")
        return errors
    if not str(blocks[0].get("Reporting-MTA", "")).startswith("dns;"):
        errors.append("per-message fields lack Reporting-MTA: dns;")
    for n, block in enumerate(blocks[1:], 1):
        final = str(block.get("Final-Recipient", ""))
        if not re.match(r"^(rfc822|utf-8);\S", final):
            errors.append(f"recipient {n}: Final-Recipient {final!r}")
        action = str(block.get("Action", "")).strip()
        if action not in ACTIONS:
            errors.append(f"recipient {n}: Action {action!r}")
        status = str(block.get("Status", "")).strip()
        if not STATUS.match(status):
            errors.append(f"recipient {n}: Status {status!r}")
        until = block.get("Will-Retry-Until")
        if until is not None:
            # RFC 3464 §2.3.9: only in "delayed" DSNs, and an RFC 5322 date-time.
            if action != "delayed":
                errors.append(f"recipient {n}: Will-Retry-Until with Action {action!r}")
            try:
                email.utils.parsedate_to_datetime(str(until).strip())
            except (TypeError, ValueError):
                errors.append(f"recipient {n}: Will-Retry-Until {until!r}")
    return errors


def main():
    errors = check(sys.stdin.buffer.read())
    for e in errors:
        print("dsn_check:", e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
