#!/usr/bin/python3
# Converts the openspf RFC 7208 test suite (YAML) into rfc7208-tests.tsv, a line format that
# spf_suite_test.cpp reads without a YAML or JSON library. Needs python3-yaml.
# Regenerate:
#   tests/unit/spf/suite_to_json.py ../shared/testdata/spf/rfc7208-tests.yml \
#       > tests/unit/spf/rfc7208-tests.tsv
#
# Output, one record per line, fields separated by TAB, with \\ \t \n \r escaped:
#   doc   <description>
#   zone  <name> <type> <value>      type: A AAAA MX ("pref host") PTR CNAME TXT TIMEOUT
#   test  <name> <host> <mailfrom> <helo> <results, comma-separated> <explanation or "-"> <spec>
# Zone records keep their YAML order: TIMEOUT applies to a query only when no record of the
# queried type comes before it (the pyspf driver's rule). As the suite's header asks, a name
# with SPF (type 99) records and no TXT key gets them copied as TXT; the SPF type itself is
# dropped, since an RFC 7208 evaluator never asks for it. "TXT: NONE" means no TXT record.
import sys

import yaml


def esc(s):
    return (str(s).replace('\\', '\\\\').replace('\t', '\\t').replace('\n', '\\n')
            .replace('\r', '\\r'))


def line(*fields):
    print('\t'.join(esc(f) for f in fields))


def txt(v):
    return ''.join(v) if isinstance(v, list) else str(v)


def main():
    with open(sys.argv[1], encoding='utf-8') as f:
        docs = list(yaml.safe_load_all(f))
    for doc in docs:
        line('doc', ' '.join(str(doc.get('description', '')).split()))
        for name, recs in (doc.get('zonedata') or {}).items():
            has_txt = any(isinstance(r, dict) and 'TXT' in r for r in recs)
            for r in recs:
                if r == 'TIMEOUT':
                    line('zone', name, 'TIMEOUT', '')
                    continue
                for k, v in r.items():
                    if k == 'SPF':
                        if not has_txt:
                            line('zone', name, 'TXT', txt(v))
                    elif k == 'TXT':
                        if v != 'NONE':
                            line('zone', name, 'TXT', txt(v))
                    elif k == 'MX':
                        line('zone', name, 'MX', '%s %s' % (v[0], v[1]))
                    else:
                        line('zone', name, k, v)
        for name, t in doc['tests'].items():
            res = t['result']
            res = res if isinstance(res, list) else [res]
            line('test', name, t['host'], t['mailfrom'], t['helo'], ','.join(res),
                 t.get('explanation', '-'), t.get('spec', ''))


if __name__ == '__main__':
    main()
