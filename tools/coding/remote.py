"""File operations run inside the sandbox, as a resident module of its agent (``Sandbox.run_module``).

``handle(request)`` takes one JSON object and returns one. Each request names the ``root``; every
path is checked there, in the same process that then uses it, so a symlink cannot lead an
operation outside the root. Kept to the standard library and to Python 3.8 syntax: any image
with ``python3`` runs it. Walks stop at ``seconds`` (the call's own deadline comes later), so a
search over a huge tree answers with a refusal instead of leaving work running behind.
"""
# ruff: noqa: UP031, B904  (old-Python syntax on purpose: this runs on the image's python3)

import fnmatch
import os
import re
import time

GREP_BYTES = 8 * 1024 * 1024  # of each file searched
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", ".mypy_cache", ".pytest_cache"}


class Refused(Exception):
    pass


def confine(root, path, must_exist=True):
    """(absolute real path, path relative to root) or ``Refused`` with the reason."""
    real_root = os.path.realpath(root)
    if not isinstance(path, str) or "\x00" in path:
        raise Refused("the path must be a string without NUL bytes")
    text = path.strip() or "."
    if os.path.isabs(text):
        normalized = os.path.normpath(text)
        if normalized != root and not normalized.startswith(root.rstrip("/") + "/"):
            raise Refused("%s is outside the root %s; use a path relative to it" % (path, root))
        text = os.path.relpath(normalized, root)
    if ".." in text.replace("\\", "/").split("/"):
        raise Refused("%s contains '..'; use a path inside the root %s, relative to it" % (path, root))
    real = os.path.realpath(os.path.join(real_root, text))
    if real != real_root and not real.startswith(real_root + "/"):
        raise Refused("%s leads outside the root %s through a symbolic link" % (path, root))
    if must_exist and not os.path.lexists(real):
        raise Refused("%s does not exist" % path)
    return real, os.path.relpath(real, real_root)


def is_binary(head):
    return b"\x00" in head


def walk(base, real_root, deadline):
    """Files under ``base`` (relative to the root, top-down, sorted), skipping tool folders, special
    files and links that lead out. Only links pay for a ``realpath``: the walk never enters a
    linked folder, so every other entry is inside the root already."""
    prefix = len(real_root) + 1
    folders = [base]
    while folders:
        try:
            entries = sorted(os.scandir(folders.pop()), key=lambda e: e.name)
        except OSError:
            continue
        below = []
        for entry in entries:
            if time.monotonic() > deadline:
                raise Refused("the folder is too large to go through in time; name a smaller path or a glob")
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_DIRS:
                    below.append(entry.path)
            elif entry.is_symlink():
                real = os.path.realpath(entry.path)
                if real.startswith(real_root + "/") and os.path.isfile(real):
                    yield entry.path[prefix:]
            elif entry.is_file(follow_symlinks=False):
                yield entry.path[prefix:]
        folders.extend(reversed(below))


def op_stat(req):
    real, rel = confine(req["root"], req["path"], must_exist=False)
    kind = "missing"
    if os.path.isdir(real):
        kind = "dir"
    elif os.path.isfile(real):
        kind = "file"
    elif os.path.lexists(real):
        kind = "other"
    return {"path": rel, "kind": kind}


def op_read(req):
    """Small text files come back inline; others say so, and the host fetches them whole."""
    real, rel = confine(req["root"], req["path"], must_exist=False)
    if not os.path.isfile(real):
        kind = "dir" if os.path.isdir(real) else ("missing" if not os.path.lexists(real) else "other")
        return {"path": rel, "kind": kind}
    size = os.path.getsize(real)
    reply = {"path": rel, "kind": "file", "size": size}
    if size <= int(req.get("inline", 0)):
        with open(real, "rb") as handle:
            data = handle.read()
        try:
            if not is_binary(data[:8192]):
                reply["content"] = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return reply


def op_write(req):
    real, rel = confine(req["root"], req["path"], must_exist=False)
    if os.path.isdir(real):
        raise Refused("%s is a folder" % req["path"])
    existed = os.path.exists(real)
    if req.get("create_only") and existed:
        raise Refused("%s already exists; edit it, or pass overwrite=true to replace it" % req["path"])
    os.makedirs(os.path.dirname(real), exist_ok=True)
    mode = os.stat(real).st_mode & 0o7777 if existed else 0o644
    tmp = real + ".m1agent-tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        handle.write(req["content"])
    os.chmod(tmp, mode)
    os.replace(tmp, real)
    return {"path": rel, "created": not existed, "bytes": len(req["content"].encode("utf-8"))}


def op_delete(req):
    real, rel = confine(req["root"], req["path"])
    if real == os.path.realpath(req["root"]):
        raise Refused("refusing to delete the root %s itself" % req["root"])
    if os.path.isdir(real) and not os.path.islink(real):
        if os.listdir(real):
            raise Refused("%s is a folder that is not empty; delete its files first" % req["path"])
        os.rmdir(real)
    else:
        os.remove(real)
    return {"path": rel}


def op_list(req):
    real, rel = confine(req["root"], req.get("path") or ".")
    if not os.path.isdir(real):
        raise Refused("%s is not a folder" % req["path"])
    depth, limit, entries = int(req.get("depth", 2)), int(req.get("limit", 1000)), []
    for current, dirs, files in os.walk(real):
        level = 0 if current == real else os.path.relpath(current, real).count("/") + 1
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        if level >= depth:
            dirs[:] = []
        for name in dirs:
            entries.append([os.path.relpath(os.path.join(current, name), real) + "/", -1])
        for name in sorted(files):
            full = os.path.join(current, name)
            size = os.lstat(full).st_size
            entries.append([os.path.relpath(full, real), size])
        if len(entries) > limit:
            break
    entries.sort()
    return {"path": rel, "entries": entries[:limit], "more": len(entries) > limit}


def op_glob(req):
    real, _ = confine(req["root"], req.get("path") or ".")
    real_root = os.path.realpath(req["root"])
    pattern, limit, found = req["pattern"], int(req.get("limit", 500)), []
    below = os.path.relpath(real, real_root)
    for rel in walk(real, real_root, req["deadline"]):
        inner = rel if below == "." else rel[len(below) + 1 :]
        if glob_match(inner, pattern):
            found.append(rel)
            if len(found) > limit:
                break
    return {"files": found[:limit], "more": len(found) > limit}


def glob_match(rel, pattern):
    """``**`` crosses folders; a pattern without a slash matches the file name anywhere."""
    if "/" not in pattern:
        return fnmatch.fnmatchcase(os.path.basename(rel), pattern)
    regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
    regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
    return re.fullmatch(regex, rel) is not None


# Line breaks other than \n, which splitlines() honours and a multi-line search does not; the
# non-ASCII ones are looked for only in non-ASCII text (one ``in`` each beats a character class).
ASCII_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e")
OTHER_BREAKS = (*ASCII_BREAKS, "\x85", "\u2028", "\u2029")


def other_breaks(text):
    return any(mark in text for mark in (ASCII_BREAKS if text.isascii() else OTHER_BREAKS))
# \A, \Z and lookarounds can see past a line's ends, so a whole-file search may miss what a line matches.
SEES_PAST_LINES = re.compile(r"\\[AZ]|\(\?<?[=!]")


def op_grep(req):
    real, _ = confine(req["root"], req.get("path") or ".")
    real_root = os.path.realpath(req["root"])
    flags = re.IGNORECASE if req.get("ignore_case") else 0
    try:
        regex = re.compile(req["pattern"], flags)
    except re.error as exc:
        raise Refused("the pattern is not a valid regular expression: %s" % exc)
    # Most files hold no match: one search over a whole file (in C) rules it out faster than a
    # Python loop over its lines, and finds every file a line-by-line search would.
    whole = None if SEES_PAST_LINES.search(req["pattern"]) else re.compile(req["pattern"], flags | re.MULTILINE)
    glob, limit, width = req.get("glob") or "", int(req.get("limit", 200)), int(req.get("width", 240))
    matches, files_seen = [], 0
    one_file = os.path.isfile(real)
    for rel in [os.path.relpath(real, real_root)] if one_file else walk(real, real_root, req["deadline"]):
        if glob and not glob_match(rel, glob):
            continue
        try:
            with open(os.path.join(real_root, rel), "rb") as handle:
                # Sized by the file: read(8 MiB) would allocate 8 MiB for every small file.
                data = handle.read(min(os.fstat(handle.fileno()).st_size, GREP_BYTES))
        except OSError:
            continue
        if is_binary(data[:8192]):
            continue
        files_seen += 1
        text = data.decode("utf-8", "replace")
        if whole is not None and not whole.search(text) and not other_breaks(text):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if regex.search(line):
                matches.append([rel, number, line[:width]])
                if len(matches) > limit:
                    return {"matches": matches[:limit], "more": True, "files": files_seen}
    return {"matches": matches, "more": False, "files": files_seen}


OPS = {
    "read": op_read, "stat": op_stat, "write": op_write, "delete": op_delete, "list": op_list, "glob": op_glob,
    "grep": op_grep,
}


def handle(request):
    request = dict(request, deadline=time.monotonic() + float(request.get("seconds", 50)))
    try:
        return OPS[request["op"]](request)
    except Refused as exc:
        return {"error": str(exc)}
    except OSError as exc:
        return {"error": "%s: %s" % (exc.strerror or type(exc).__name__, request.get("path", ""))}
