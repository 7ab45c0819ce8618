#!/usr/bin/env python3
"""Regenerate confparse/settings.tsv from an installed Dovecot 2.3.

Developer tool, not part of the build. The facts it records (setting names,
their order in `doveconf -S`, defaults, types and the built-in service
instances) come from running Debian's doveconf on a probe config, plus the
types in ../shared/reference/settings-2.3.tsv.

usage: schema-from-dovecot.py REFERENCE_TSV > confparse/settings.tsv

Rows flagged "hidden" (the 14 mail_cache_*/mail_index_* settings that
`doveconf -s` adds, and namespace alias_for, which has no default) are not
produced by this script: after regenerating, carry them over from git.
"""
import os
import subprocess
import sys
import tempfile

PROBE = """
namespace probe {
  mailbox probe {
  }
}
passdb {
  driver = pam
}
userdb {
  driver = passwd
}
plugin {
  probe = 1
}
dict {
  probe = x
}
metric probe {
  filter = event=probe
}
event_exporter probe {
  transport = log
  format = json
  format_args = time-unix
}
service probe {
  unix_listener probe {
  }
  fifo_listener probe2 {
  }
  inet_listener probe {
  }
}
"""

LISTS = {  # key -> (info, unique key or '')
    "service": ("service", "name"),
    "unix_listener": ("unix_listener", "path"),
    "fifo_listener": ("fifo_listener", "path"),
    "inet_listener": ("inet_listener", "name"),
    "namespace": ("namespace", "name"),
    "mailbox": ("mailbox", "name"),
    "passdb": ("passdb", ""),
    "userdb": ("userdb", ""),
    "metric": ("metric", "metric_name"),
    "event_exporter": ("event_exporter", "name"),
}
STRLISTS = ("plugin", "dict")
PROBE_SET = {("event_exporter", "transport"), ("metric", "filter"),
             ("passdb", "driver"), ("event_exporter", "format"),
             ("event_exporter", "format_args"), ("userdb", "driver")}


def load_types(path):
    types, auth = {}, set()
    with open(path) as f:
        next(f)
        for line in f:
            row = line.rstrip("\n").split("\t")
            scope, name, typ, where = row[0], row[2], row[4], row[5]
            if scope == "debian-stock":
                continue
            types.setdefault((scope, name), typ)
            if "auth setting: rejected" in where:
                auth.add(name)
    return types, auth


def map_type(info, key, typ):
    if info == "service" and key == "type":
        return "str"  # checked after parsing: "Unknown service type"
    if info == "event_exporter" and key in ("format", "transport"):
        return "str"  # checked after parsing: "Unknown exporter format"
    if key == "mode":
        return "oct"
    if typ.startswith("enum("):
        vals = [v.strip() for v in typ[5:-1].split("|")]
        return "enum:" + ",".join(vals)
    if typ.startswith("port"):
        return "port"
    if typ in ("bool", "uint", "size"):
        return typ
    if typ == "time":
        return "msecs" if key == "transport_timeout" else "time"
    return "str"


def main():
    types, auth = load_types(sys.argv[1])
    with tempfile.TemporaryDirectory() as d:
        probe = os.path.join(d, "probe.conf")
        with open(probe, "w") as f:
            f.write(PROBE)
        out = subprocess.run(["doveconf", "-S", "-c", probe], check=False,
                             capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(out.stderr)
        out = out.stdout
    lines = [l.split("=", 1) for l in out.splitlines()]
    infos = {"root": []}
    instances = []
    seen = set()
    for key, value in lines:
        parts = key.split("/")
        if parts[0] in STRLISTS:
            if len(parts) == 1:
                infos["root"].append((parts[0], "strlist", ""))
            continue
        # walk: list key, id, list key, id, ..., setting
        info = "root"
        i = 0
        path = []
        while i + 2 < len(parts):
            info = LISTS[parts[i]][0]
            path += parts[i:i + 2]
            i += 2
        name = parts[i]
        is_probe = ("probe" in path or "probe2" in path or
                    (len(path) >= 2 and path[0] in ("passdb", "userdb")))
        if name in LISTS and i + 1 == len(parts):
            # list key line: "service=a b c"
            if (info, name) not in seen and (is_probe or info == "root"):
                seen.add((info, name))
                infos.setdefault(info, []).append(
                    (name, "list:" + LISTS[name][0], ""))
            if not is_probe and name not in ("passdb", "userdb"):
                for ident in value.split():
                    if ident != "probe":
                        instances.append(("inst", "/".join(path + [name, ident]), ""))
            continue
        if is_probe and all(p in ("probe", "probe2", "0") or p in LISTS for p in path):
            # defaults of the info come from the probe instance
            if (info, name) not in seen:
                seen.add((info, name))
                scope = {"root": "global"}.get(info, info)
                typ = types.get((scope, name))
                if typ is None and info == "root":
                    typ = types.get(("global", name), "string")
                if typ is None:
                    typ = "string"
                # values the probe had to set are not the defaults
                val = "" if (info, name) in PROBE_SET else value
                if LISTS.get(path[-2], ("", ""))[1] == name:
                    val = ""
                uniq = "key" if LISTS.get(path[-2], ("", ""))[1] == name else ""
                flags = ",".join(f for f in (uniq, "auth" if name in auth and info == "root" else "") if f)
                infos.setdefault(info, []).append(
                    (name, map_type(info, name, typ), val, flags))
            continue
        if info == "root":
            if (info, name) not in seen:
                seen.add((info, name))
                typ = types.get(("global", name), "string")
                flags = "auth" if name in auth else ""
                infos["root"].append((name, map_type(info, name, typ), value, flags))
            continue
        instances.append(("set", key, value))
    print("# Roost settings schema: one row per setting, in Dovecot 2.3's "
          "doveconf -S order.")
    print("# Generated by scripts/schema-from-dovecot.py; see confparse/README.md.")
    print("# info\tkey\ttype\tdefault\tflags")
    for info, rows in infos.items():
        for row in rows:
            name, typ, val = row[0], row[1], row[2]
            flags = row[3] if len(row) > 3 else ""
            print(f"{info}\t{name}\t{typ}\t{val}\t{flags}")
    # only values that differ from the info defaults are recorded
    defaults = {info: {r[0]: r[2] for r in rows} for info, rows in infos.items()}
    for kind, path, value in instances:
        if kind == "inst":
            print(f"@inst\t{path}\t\t\t")
            continue
        parts = path.split("/")
        info = LISTS[parts[-3]][0]
        if defaults[info].get(parts[-1]) != value:
            print(f"@set\t{path}\t\t{value}\t")


main()
