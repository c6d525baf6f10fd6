#!/usr/bin/env python3
"""promql_check.py - the PromQL floodgate ships, checked against what the agent exports.

  promql_check.py wrap DASHBOARD.json OUT.rules.yml
      every PromQL expression of a Grafana dashboard (panel targets, template
      queries) into a rule file, Grafana's variables replaced by values, for
      `promtool check rules` to parse.
  promql_check.py names --exported NAMES [--rules RULES.yml] FILE...
      every metric name the expressions of FILE (a rule file or a dashboard)
      read must be in NAMES (one a line); every recording rule name
      (level:metric:operation) must be recorded by RULES.yml. Prints the names
      it checked; exits 1 naming each unknown one.
  promql_check.py exported SCRAPE|metrics.md
      the metric names a Prometheus text scrape (# TYPE lines) or the tables of
      docs/metrics.md declare, one a line; a histogram adds _bucket, _sum, _count.
"""
import json
import re
import sys

import yaml

METRIC = re.compile(r'\b((?:floodgate|process)_[a-z0-9_]+)\b')
RECORDED = re.compile(r'\b([a-z_]+:[a-z0-9_]+:[a-z0-9_]+)\b')
QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


def dashboard_exprs(path):
    with open(path) as f:
        d = json.load(f)
    out = []

    def panels(ps):
        for p in ps:
            for t in p.get('targets', []):
                if t.get('expr'):
                    out.append(t['expr'])
            panels(p.get('panels', []))

    panels(d.get('panels', []))
    for v in d.get('templating', {}).get('list', []):
        q = v.get('query')
        if v.get('type') == 'query' and isinstance(q, str):
            m = re.fullmatch(r'label_values\((.*),\s*\w+\)', q)
            out.append(m.group(1) if m else q)
    return out


def grafana_to_promql(e):
    e = e.replace('$__rate_interval', '5m').replace('$__range', '1h')
    e = e.replace('$__interval', '1m')
    return re.sub(r'\$\w+', '.+', e)


def rule_exprs(path):
    with open(path) as f:
        d = yaml.safe_load(f)
    return [r['expr'] for g in d.get('groups', []) for r in g.get('rules', [])]


def exprs_of(path):
    return dashboard_exprs(path) if path.endswith('.json') else rule_exprs(path)


def exported(path):
    names = set()
    with open(path) as f:
        text = f.read()
    if path.endswith('.md'):
        for line in text.splitlines():
            cells = line.split('|')
            if len(cells) < 4 or not cells[1].strip().startswith('`'):
                continue
            kind = cells[2].strip()
            for n in re.findall(r'`([a-z_:][a-z0-9_:]*)`', cells[1]):
                names.add(n)
                if kind == 'histogram':
                    names.update(n + s for s in ('_bucket', '_sum', '_count'))
    else:
        for m in re.finditer(r'^# TYPE (\S+) (\S+)$', text, re.M):
            names.add(m.group(1))
            if m.group(2) == 'histogram':
                names.update(m.group(1) + s for s in ('_bucket', '_sum', '_count'))
    return sorted(names)


def main(argv):
    if len(argv) == 3 and argv[0] == 'wrap':
        rules = [{'record': 'floodgate_dashboard:expr_%d:check' % i,
                  'expr': grafana_to_promql(e)}
                 for i, e in enumerate(dashboard_exprs(argv[1]))]
        with open(argv[2], 'w') as f:
            yaml.safe_dump({'groups': [{'name': 'dashboard', 'rules': rules}]}, f)
        print('%d expressions' % len(rules))
        return 0
    if len(argv) == 2 and argv[0] == 'exported':
        print('\n'.join(exported(argv[1])))
        return 0
    if argv and argv[0] == 'names':
        args = argv[1:]
        known, recorded, files = set(), None, []
        while args:
            a = args.pop(0)
            if a == '--exported':
                with open(args.pop(0)) as f:
                    known = {ln.strip() for ln in f if ln.strip()}
            elif a == '--rules':
                recorded = {r['record'] for g in yaml.safe_load(open(args.pop(0)))['groups']
                            for r in g['rules'] if 'record' in r}
            else:
                files.append(a)
        bad, seen = [], set()
        for path in files:
            for e in exprs_of(path):
                bare = QUOTED.sub('""', e)  # label values are not names
                for n in RECORDED.findall(bare):
                    seen.add(n)
                    if recorded is not None and n not in recorded:
                        bad.append('%s: %s is not recorded by the rules' % (path, n))
                for n in METRIC.findall(RECORDED.sub('', bare)):
                    seen.add(n)
                    if n not in known:
                        bad.append('%s: %s is not exported' % (path, n))
        print('\n'.join(sorted(seen)))
        for b in bad:
            print('UNKNOWN ' + b, file=sys.stderr)
        return 1 if bad or not seen else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
