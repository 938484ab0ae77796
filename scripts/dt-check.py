#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Helpers of scripts/check-dts for the device-tree bindings.

  dt-check.py extract BINDINGS_DIR OUTDIR
      Light checks of each binding's top level ($id, $schema, the keys a
      binding needs), then writes each binding's examples as
      OUTDIR/BINDING.exN.dts, wrapped in a minimal tree, and their paths,
      one a line, to OUTDIR/list. Report lines go to stdout.

  dt-check.py check BINDINGS_DIR FILE.dts...
      Compiles each file to YAML with dtc (dtc -O yaml) and checks every
      node whose compatible names a binding against that binding: a poor
      man's dt-schema.

What the check verifies, for a node matched by compatible and for its
child nodes matched by patternProperties (following $ref to the project's
own schema files, e.g. hrservo-channel.yaml):
  - every property is listed in properties (or is one that dt-schema's
    core schemas allow on any node: status, phandle, pinctrl-*), unless
    additionalProperties / unevaluatedProperties is not false;
  - every child node matches a patternProperties (or properties) entry;
  - required properties are present; $nodename's pattern holds;
  - "false" properties are absent, also those of a simple
    "if: required: [...]" / "then:" pair;
  - const and enum of strings, maxLength of strings;
  - minItems / maxItems: the number of <...> groups (phandle-array,
    matrix) or of strings;
  - minimum / maximum on every cell of an integer property; a property
    with $ref .../uint32 holds exactly one cell;
  - a node with a unit address and a one-cell reg: the two agree.

What it cannot check (dt-schema would do most of it, dtc some):
  - that the binding itself is valid dt-schema (the meta-schemas), that
    the vendor prefix is registered, and the full JSON-schema semantics
    (allOf/anyOf/oneOf, dependencies, if/then beyond the simple form);
  - types from dt-schema's types.yaml and property-units beyond "uint32
    is one cell", e.g. that a string property is not given cells;
  - phandle arguments: the number of cells each *-gpios or clocks entry
    needs (#gpio-cells of a controller that the example does not define),
    and what the flags mean;
  - relations between values that the driver enforces: min-pulse-ns <
    max-pulse-ns <= frame-period-ns - 100000, initial-pulse-ns within the
    limits, a channel's reg below the number of servo-gpios, a PCA9685
    frame period within its oscillator's PRE_SCALE range;
  - that the drivers really read these properties.
"""
import os
import re
import subprocess
import sys

import yaml

META_SCHEMA = "http://devicetree.org/meta-schemas/core.yaml#"
ID_BASE = "http://devicetree.org/schemas/"
# Properties dt-schema's core schemas allow on every node.
IMPLICIT = re.compile(r"^(status|phandle|pinctrl-names|pinctrl-[0-9]+)$")

# The wrapper of an example, like the one mainline's dt-extract-example
# writes: /plugin/ so that the example may refer to labels (&gpio0) of
# nodes it does not define; the example brings its own bus parent.
WRAPPER = """/dts-v1/;
/plugin/;	/* the example's phandles point outside it */

/ {{
	#address-cells = <1>;
	#size-cells = <1>;

{body}
}};
"""

failed = False


def report(good, what, why=()):
    global failed
    print(("ok - " if good else "not ok - ") + what)
    if not good:
        failed = True
        for line in why:
            print("#   " + line)


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def bindings(bdir):
    out = []
    for root, _, files in os.walk(bdir):
        for name in sorted(files):
            if name.endswith(".yaml"):
                out.append(os.path.join(root, name))
    return sorted(out)


def compatibles(schema):
    c = (schema.get("properties") or {}).get("compatible") or {}
    if "const" in c:
        return [c["const"]]
    return [e for e in c.get("enum", []) if isinstance(e, str)]


def meta_problems(path, bdir, schema):
    rel = os.path.relpath(path, bdir)
    want_id = ID_BASE + rel + "#"
    why = []
    if not isinstance(schema, dict):
        return ["not a YAML mapping"]
    if schema.get("$id") != want_id:
        why.append("$id is %r, expected %r" % (schema.get("$id"), want_id))
    if schema.get("$schema") != META_SCHEMA:
        why.append("$schema is not " + META_SCHEMA)
    keys = ["title", "maintainers", "description", "properties"]
    if compatibles(schema):
        keys += ["required", "examples"]
        if schema.get("additionalProperties") is not False and \
           schema.get("unevaluatedProperties") is not False:
            why.append("neither additionalProperties nor "
                       "unevaluatedProperties is false")
    for k in keys:
        if k not in schema:
            why.append("no " + k)
    return why


def indent(line):
    """An example line one level deeper, its 4-space steps as tabs."""
    if not line:
        return ""
    n = (len(line) - len(line.lstrip(" "))) // 4
    return "\t" * (n + 1) + line[4 * n:]


def extract(bdir, outdir):
    os.makedirs(outdir, exist_ok=True)
    written = []
    for path in bindings(bdir):
        name = os.path.basename(path)[:-len(".yaml")]
        try:
            schema = load(path)
        except yaml.YAMLError as e:
            report(False, "binding %s parses" % name, str(e).splitlines())
            continue
        why = meta_problems(path, bdir, schema)
        report(not why, "binding %s: top-level keys, $id, $schema" % name,
               why)
        for i, ex in enumerate(schema.get("examples") or []):
            body = "\n".join(indent(line)
                             for line in ex.rstrip().splitlines())
            out = os.path.join(outdir, "%s.ex%d.dts" % (name, i))
            with open(out, "w", encoding="utf-8") as f:
                f.write(WRAPPER.format(body=body))
            written.append(out)
    with open(os.path.join(outdir, "list"), "w", encoding="utf-8") as f:
        f.write("".join(p + "\n" for p in written))


class Loader(yaml.SafeLoader):
    pass


def _tagged(loader, suffix, node):
    # dtc -O yaml tags phandles and /bits/ 8, 16, 64 values.
    if isinstance(node, yaml.SequenceNode):
        return [int(n.value, 0) for n in node.value]
    return int(node.value, 0)


Loader.add_multi_constructor("!", _tagged)


def dtc_yaml(path):
    r = subprocess.run(["dtc", "-q", "-I", "dts", "-O", "yaml", "-o", "-",
                        path], capture_output=True, text=True, check=False)
    if r.returncode:
        raise RuntimeError(r.stderr.strip() or "dtc failed")
    doc = yaml.load(r.stdout, Loader=Loader)
    return doc[0]


class Schemas:
    def __init__(self, bdir):
        self.bdir = bdir
        self.by_file = {}
        self.by_compat = {}
        for path in bindings(bdir):
            try:
                s = load(path)
            except yaml.YAMLError:
                continue	# reported by extract
            self.by_file[os.path.abspath(path)] = s
            for c in compatibles(s):
                self.by_compat[c] = (os.path.basename(path), s, path)

    def ref(self, ref, base):
        """A $ref to one of the project's files, else None."""
        if ref.startswith("/schemas/") or "://" in ref:
            return None
        file = ref.split("#", 1)[0]
        path = os.path.abspath(os.path.join(os.path.dirname(base), file))
        return self.by_file.get(path), path

    def flatten(self, schema, base):
        """properties, patternProperties, required, closed, if/then."""
        props, pats, req, conds = {}, {}, [], []
        closed = False
        r = schema.get("$ref")
        if r and self.ref(r, base):
            sub, subpath = self.ref(r, base)
            if sub:
                p2, pat2, req2, _, c2 = self.flatten(sub, subpath)
                props.update(p2)
                pats.update(pat2)
                req += req2
                conds += c2
        for k, v in (schema.get("properties") or {}).items():
            if isinstance(v, dict) and isinstance(props.get(k), dict):
                merged = dict(props[k])
                merged.update(v)
                props[k] = merged
            else:
                props[k] = v
        pats.update(schema.get("patternProperties") or {})
        req += schema.get("required") or []
        if schema.get("additionalProperties") is False or \
           schema.get("unevaluatedProperties") is False:
            closed = True
        if "if" in schema and "then" in schema:
            conds.append((schema["if"], schema["then"]))
        return props, pats, req, closed, conds


def is_node(v):
    return isinstance(v, dict)


def cells(v):
    """All integer cells of a property value, or None if it has strings."""
    out = []
    for g in v if isinstance(v, list) else [v]:
        if isinstance(g, list):
            if not all(isinstance(x, int) for x in g):
                return None
            out += g
        elif isinstance(g, int) and not isinstance(g, bool):
            out.append(g)
        else:
            return None
    return out


def check_prop(name, v, p, why, where):
    if p is False:
        why.append("%s: %s is not allowed here" % (where, name))
        return
    if not isinstance(p, dict):
        return
    strings = [x for x in v if isinstance(x, str)] \
        if isinstance(v, list) else []
    if "const" in p and isinstance(p["const"], str) and \
       p["const"] not in strings:
        why.append("%s: %s is %r, expected %r" % (where, name, v, p["const"]))
    if "enum" in p and strings and \
       not any(s in p["enum"] for s in strings):
        why.append("%s: %s %r not one of %r" % (where, name, v, p["enum"]))
    if "maxLength" in p:
        for s in strings:
            if len(s.encode()) > p["maxLength"]:
                why.append("%s: %s is %d bytes, at most %d" %
                           (where, name, len(s.encode()), p["maxLength"]))
    n = len(v) if isinstance(v, list) else 1
    if "maxItems" in p and n > p["maxItems"]:
        why.append("%s: %s has %d entries, at most %d" %
                   (where, name, n, p["maxItems"]))
    if "minItems" in p and n < p["minItems"]:
        why.append("%s: %s has %d entries, at least %d" %
                   (where, name, n, p["minItems"]))
    c = cells(v)
    if p.get("$ref", "").endswith("/uint32") and (c is None or len(c) != 1):
        why.append("%s: %s must be one cell, is %r" % (where, name, v))
    if c is not None:
        for x in c:
            if "minimum" in p and x < p["minimum"]:
                why.append("%s: %s = %d, minimum %d" %
                           (where, name, x, p["minimum"]))
            if "maximum" in p and x > p["maximum"]:
                why.append("%s: %s = %d, maximum %d" %
                           (where, name, x, p["maximum"]))
    elif any(k in p for k in ("minimum", "maximum")):
        why.append("%s: %s must be integer cells, is %r" % (where, name, v))


def check_node(schemas, schema, base, nname, node, path, why):
    props, pats, req, closed, conds = schemas.flatten(schema, base)
    where = path
    nodename = props.get("$nodename")
    if isinstance(nodename, dict) and "pattern" in nodename and \
       not re.search(nodename["pattern"], nname):
        why.append("%s: node name does not match %s" %
                   (where, nodename["pattern"]))
    for r in req:
        if r not in node:
            why.append("%s: required property %s missing" % (where, r))
    for cond_if, cond_then in conds:
        if all(r in node for r in cond_if.get("required", [])):
            for k, v in (cond_then.get("properties") or {}).items():
                if v is False and k in node:
                    why.append("%s: %s not allowed with %s" %
                               (where, k, ", ".join(cond_if["required"])))
            for r in cond_then.get("required", []):
                if r not in node:
                    why.append("%s: %s required with %s" %
                               (where, r, ", ".join(cond_if["required"])))
    unit = nname.split("@", 1)[1] if "@" in nname else None
    for k, v in node.items():
        if is_node(v):
            sub = props.get(k)
            if sub is None:
                sub = next((s for pat, s in pats.items()
                            if re.search(pat, k)), None)
            if isinstance(sub, dict):
                check_node(schemas, sub, base, k, v, path + "/" + k, why)
            elif closed:
                why.append("%s: child node %s matches no pattern" %
                           (where, k))
            continue
        if k in props:
            check_prop(k, v, props[k], why, where)
        elif any(re.search(pat, k) for pat in pats):
            pass
        elif IMPLICIT.match(k):
            pass
        elif closed:
            why.append("%s: property %s is not in the binding" % (where, k))
    reg = cells(node.get("reg", []))
    if unit is not None and reg is not None and len(reg) == 1:
        try:
            if int(unit, 16) != reg[0]:
                why.append("%s: unit address %s but reg = <%d>" %
                           (where, unit, reg[0]))
        except ValueError:
            why.append("%s: unit address %s is not hex" % (where, unit))


def walk(tree, path=""):
    for k, v in tree.items():
        if is_node(v):
            p = path + "/" + k
            yield k, v, p
            yield from walk(v, p)


def check(bdir, files):
    schemas = Schemas(bdir)
    seen = {}
    for f in files:
        label = os.path.relpath(f)
        try:
            tree = dtc_yaml(f)
        except (RuntimeError, yaml.YAMLError) as e:
            report(False, "schema check: %s (dtc -O yaml)" % label,
                   str(e).splitlines())
            continue
        nodes = 0
        why = []
        for nname, node, path in walk(tree):
            comp = node.get("compatible", [])
            comp = [c for c in comp if isinstance(c, str)] \
                if isinstance(comp, list) else []
            match = next((schemas.by_compat[c] for c in comp
                          if c in schemas.by_compat), None)
            if not match:
                continue
            bname, schema, bpath = match
            seen[bname] = seen.get(bname, 0) + 1
            nodes += 1
            check_node(schemas, schema, bpath, nname, node, path, why)
        if not nodes:
            why.append("no node has the compatible of a binding")
        report(not why, "schema check: %s (%d node%s)" %
               (label, nodes, "" if nodes == 1 else "s"), why)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "extract":
        extract(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 3 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
