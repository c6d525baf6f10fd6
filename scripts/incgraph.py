#!/usr/bin/env python3
"""Include graph of agent/ by module: an edge a -> b when a.c or a.h includes
b.h (a != b). A private header name_int.h belongs to module name (the
insides a module shares with its own helper files). Prints the cycles (strongly connected components of more than
one module) and exits 1 when there is one; with -v also the layers, lowest
first (a module depends only on modules of lower layers)."""
import glob
import os
import re
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
inc = re.compile(r'^\s*#\s*include\s+"([^"]+)\.h"')
graph = {}
def module(name):
    return name[:-4] if name.endswith("_int") else name

for path in sorted(glob.glob(os.path.join(root, "agent", "*.[ch]"))):
    mod = module(os.path.splitext(os.path.basename(path))[0])
    deps = graph.setdefault(mod, set())
    with open(path) as f:
        for line in f:
            m = inc.match(line)
            if m and os.path.exists(os.path.join(root, "agent", m.group(1) + ".h")):
                dep = module(m.group(1))
                if dep != mod:
                    deps.add(dep)
                    graph.setdefault(dep, set())

# Tarjan's strongly connected components.
index, low, stack, on, sccs = {}, {}, [], set(), []
def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on.add(v)
    for w in sorted(graph[v]):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        sccs.append(sorted(comp))
sys.setrecursionlimit(10000)
for v in sorted(graph):
    if v not in index:
        visit(v)

edges = sum(len(d) for d in graph.values())
cycles = [c for c in sccs if len(c) > 1]
print(f"modules: {len(graph)}, edges: {edges}, cycles: {len(cycles)}")
for c in cycles:
    print("cycle:", " ".join(c), "|",
          ", ".join(f"{a}->{b}" for a in c for b in sorted(graph[a]) if b in c))
if "-v" in sys.argv and not cycles:
    layer = {}
    def lay(v):
        if v not in layer:
            layer[v] = 1 + max((lay(w) for w in graph[v]), default=-1)
        return layer[v]
    for v in graph:
        lay(v)
    for n in range(max(layer.values()) + 1):
        print(f"layer {n}:", " ".join(sorted(v for v in layer if layer[v] == n)))
sys.exit(1 if cycles else 0)
