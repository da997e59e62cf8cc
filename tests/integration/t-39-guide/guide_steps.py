#!/usr/bin/python3
"""The runnable steps of docs/guide.md, for t-39-guide.

  guide_steps.py extract GUIDE OUTDIR [FROM=>TO | re:PATTERN=>REPL ...]
      Writes OUTDIR/NAME.sh for each ```sh block after a `<!-- test: NAME -->` line, OUTDIR/NAME.out
      for each ```text block after `<!-- test: NAME output -->`, and OUTDIR/order (the names in the
      guide's order). The substitutions apply, in the order given, to commands and outputs alike.
      A ```sh block without a marker, a marker without a block, or a name used twice is an error:
      no command of the guide escapes the test.
  guide_steps.py match EXPECTED OUTPUT
      Exit 0 when every non-empty line of EXPECTED matches some line of OUTPUT: a run of spaces
      matches any run of white space, `…` matches anything, the rest is literal.
"""
import os
import re
import sys


def substitute(text, rules):
    for rule in rules:
        src, dst = rule.split("=>", 1)
        if src.startswith("re:"):
            text = re.sub(src[3:], lambda m: m.expand(dst), text)
        else:
            text = text.replace(src, dst)
    return text


def extract(guide, outdir, rules):
    lines = open(guide, encoding="utf-8").read().split("\n")
    marker = re.compile(r"^<!-- test: (\S+)( output)? -->$")
    seen, order, i = set(), [], 0
    while i < len(lines):
        m = marker.match(lines[i])
        if lines[i].startswith("```sh") and not (i > 0 and marker.match(lines[i - 1])):
            sys.exit(f"{guide}:{i + 1}: a ```sh block without a <!-- test: NAME --> line")
        if not m:
            i += 1
            continue
        name, is_output = m.group(1), bool(m.group(2))
        fence = "```text" if is_output else "```sh"
        if i + 1 >= len(lines) or lines[i + 1] != fence:
            sys.exit(f"{guide}:{i + 1}: the marker for {name} is not followed by {fence}")
        key = name + (".out" if is_output else ".sh")
        if key in seen:
            sys.exit(f"{guide}:{i + 1}: {key} appears twice")
        seen.add(key)
        end = lines.index("```", i + 2)
        body = "\n".join(lines[i + 2:end]) + "\n"
        with open(os.path.join(outdir, key), "w", encoding="utf-8") as f:
            f.write(substitute(body, rules))
        if not is_output:
            order.append(name)
        i = end + 1
    for key in seen:
        if key.endswith(".out") and key[:-4] + ".sh" not in seen:
            sys.exit(f"{guide}: output block {key} belongs to no command")
    with open(os.path.join(outdir, "order"), "w", encoding="utf-8") as f:
        f.write("\n".join(order) + "\n")


def match(expected, output):
    got = open(output, encoding="utf-8", errors="replace").read().split("\n")
    ok = True
    for want in open(expected, encoding="utf-8").read().split("\n"):
        if not want.strip():
            continue
        parts = [r"\s+".join(map(re.escape, p.split())) for p in want.split("…")]
        pattern = re.compile(".*".join(parts))
        if not any(pattern.search(line) for line in got):
            print(f"expected a line like: {want}")
            ok = False
    return ok


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "extract":
        extract(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif len(sys.argv) == 4 and sys.argv[1] == "match":
        sys.exit(0 if match(sys.argv[2], sys.argv[3]) else 1)
    else:
        sys.exit(__doc__)
