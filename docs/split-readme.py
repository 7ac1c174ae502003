#!/usr/bin/env python3
"""Splits the long README.md into the mdBook pages of docs/src/ (and benches/README.md).

    python3 docs/split-readme.py             # write the pages from README.md
    python3 docs/split-readme.py --check     # write nothing; exit 1 if a page is out of date
    python3 docs/split-readme.py --snippets  # only copy the tested snippets into their pages
    python3 docs/split-readme.py --finalize  # split, then make docs/README.short.md the README

Every `#`, `##` and `###` heading of README.md must be in SECTIONS below, which says on which
page it goes and at which heading level; the script exits 1 on a heading it does not know, so
that a new section is never dropped silently. Links are rewritten for the page they land on:
`(#anchor)` becomes `(page.md#anchor)` with a path relative to that page, and links to files of
the repository (`docs/openapi.yaml`, `ARCHITECTURE.md`) are made relative to the page. An
anchor that no page has, or a file that does not exist, is an error too.

Pages that are written by hand (the library snippets) are listed in PAGES as static: they are
only checked. Each `<!-- snippet: path#anchor -->` line in a page is followed by a fenced block
that this script fills with the lines between `ANCHOR: anchor` and `ANCHOR_END: anchor` of that
file (mdBook's anchor syntax), so the page shows exactly the code that tests/it/apps.rs runs;
the test fails when they drift.

`--finalize` is the last step of the move: it splits once more, removes the generated-page
markers, replaces README.md by docs/README.short.md and deletes the latter. From then on the
pages are edited directly, and only `--snippets` still has a use.

Python 3.8+, standard library only, deterministic: the same README gives the same pages.
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = "README.md"
SHORT = "docs/README.short.md"
SUMMARY = "docs/src/SUMMARY.md"
GENERATED = (
    "<!-- Generated from the repository's README.md by docs/split-readme.py: edit the README"
    " and run the script again. -->"
)

# The book, in reading order: (path from the repository root, title in SUMMARY.md, depth in
# SUMMARY.md or None for the prefix chapter / not in the book, kind). Kind is "generated"
# (written from README sections), "static" (written by hand, only checked) or "outside" (a
# generated file that is not part of the book).
PAGES = [
    ("docs/src/introduction.md", "Introduction", None, "generated"),
    ("docs/src/getting-started.md", "Getting started", 0, "generated"),
    ("docs/src/connecting.md", "Connecting an application", 0, "generated"),
    ("docs/src/connecting/libraries.md", "Library snippets", 1, "static"),
    ("docs/src/desktop-apps.md", "Desktop apps and agents", 0, "generated"),
    ("docs/src/administration.md", "Administration", 0, "generated"),
    ("docs/src/administration/entra.md", "Connecting an Entra tenant", 1, "generated"),
    ("docs/src/policy.md", "Policy reference", 0, "generated"),
    ("docs/src/endpoints.md", "Endpoints", 0, "generated"),
    ("docs/src/operations.md", "Operations", 0, "generated"),
    ("docs/src/security.md", "Security", 0, "generated"),
    ("docs/src/design/README.md", "Design notes", 0, "generated"),
    ("docs/src/design/login.md", "Login", 1, "generated"),
    ("docs/src/design/tokens.md", "Authorization and tokens", 1, "generated"),
    ("docs/src/design/signing-keys.md", "Signing keys", 1, "generated"),
    ("docs/src/design/storage.md", "Storage", 1, "generated"),
    ("docs/src/design/upstream-sign-in.md", "Upstream sign-in", 1, "generated"),
    ("docs/src/design/desktop-devices-admin.md", "Desktop apps, devices and the admin API", 1,
     "generated"),
    ("benches/README.md", "Benchmarks", None, "outside"),
]

DROP = None

# Every heading of README.md: (the heading line, the page it goes to, its level there), in the
# order the page shows them. Level 1 makes the heading the page's title; a page whose first
# section is not level 1 gets `# {title}` from PAGES. Deeper headings inside a section (####)
# move with it. DROP drops the section and its text.
SECTIONS = [
    ("# idbroker", "docs/src/introduction.md", 1),
    ("## Quick start", "docs/src/getting-started.md", 2),
    ("### Try it", "docs/src/getting-started.md", 2),
    ("### Command line", "docs/src/getting-started.md", 2),
    ("## Connecting an application", "docs/src/connecting.md", 1),
    ("## Desktop apps and agents", "docs/src/desktop-apps.md", 1),
    ("### Native apps through the browser (RFC 8252)", "docs/src/desktop-apps.md", 2),
    ("### Device authorization grant (RFC 8628)", "docs/src/desktop-apps.md", 2),
    ("### Silent sign-in with an Entra token (RFC 8693 token exchange)",
     "docs/src/desktop-apps.md", 2),
    ("## Administration", "docs/src/administration.md", 1),
    ("### Turning it on", "docs/src/administration.md", 2),
    ("### Routes", "docs/src/administration.md", 2),
    ("### The `idbroker admin` command", "docs/src/administration.md", 2),
    ("### Connecting an Entra tenant, step by step", "docs/src/administration/entra.md", 1),
    ("### Import rules", "docs/src/administration/entra.md", 2),
    ("### Re-sync", "docs/src/administration/entra.md", 2),
    ("### Microsoft Graph", "docs/src/administration/entra.md", 2),
    ("## Policy reference", "docs/src/policy.md", 1),
    ("### How the file is read", "docs/src/policy.md", 2),
    ("### Top level", "docs/src/policy.md", 2),
    ("### `keys`", "docs/src/policy.md", 2),
    ("### `store`", "docs/src/policy.md", 2),
    ("### `lifetimes`", "docs/src/policy.md", 2),
    ("### `admin`", "docs/src/policy.md", 2),
    ("### `clients[]`", "docs/src/policy.md", 2),
    ("### `upstreams[]`", "docs/src/policy.md", 2),
    ("### `organizations[]`", "docs/src/policy.md", 2),
    ("### `users[]`", "docs/src/policy.md", 2),
    ("### `rate_limits`", "docs/src/policy.md", 2),
    ("### `server`", "docs/src/policy.md", 2),
    ("### `password_hashing`", "docs/src/policy.md", 2),
    ("## Endpoints", "docs/src/endpoints.md", 1),
    # Operations: reload, TLS (the page's own intro), replicas, metrics, audit.
    ("### Live reload", "docs/src/operations.md", 2),
    ("### Replicas", "docs/src/operations.md", 2),
    ("## Metrics", "docs/src/operations.md", 2),
    ("### `audit`", "docs/src/operations.md", 2),
    ("## Security notes", "docs/src/security.md", 1),
    # Design notes: the README's "Choices we made", one page per topic (Replicas is under
    # Operations).
    ("## Choices we made", "docs/src/design/README.md", 1),
    ("### Login", "docs/src/design/login.md", 1),
    ("### Authorization and tokens", "docs/src/design/tokens.md", 1),
    ("### Signing keys", "docs/src/design/signing-keys.md", 1),
    ("### Storage", "docs/src/design/storage.md", 1),
    ("### Upstream sign-in", "docs/src/design/upstream-sign-in.md", 1),
    ("### Desktop apps, devices and the admin API", "docs/src/design/desktop-devices-admin.md",
     1),
    ("## Benchmarks", "benches/README.md", 1),
    ("### Home realm discovery (`benches/hrd.rs`)", "benches/README.md", 2),
    ("### Tokens (`benches/tokens.rs`)", "benches/README.md", 2),
    ("### Token exchange (`benches/exchange.rs`)", "benches/README.md", 2),
    ("### Operations (`benches/ops.rs`)", "benches/README.md", 2),
    ("### Storage engines (`benches/store.rs`)", "benches/README.md", 2),
    ("### HTTP load (`benches/load.rs`)", "benches/README.md", 2),
    ("### Memory under a password burst (`benches/passwords.rs`)", "benches/README.md", 2),
    # What is built and what is left out: the issues and CHANGELOG.md carry that now.
    ("## Status", DROP, 0),
]

# Text of our own for some pages, written like README text (links as `#anchor` or from the
# repository root) and rewritten the same way. It goes after the page's title section: after
# the level-1 section's text, or right after the generated `# {title}`.
INTROS = {
    "docs/src/connecting.md": """\
## Ready-made setups

Node (`openid-client`), Python (Flask with `Authlib`), ASP.NET Core and Spring Boot: see
[Library snippets](docs/src/connecting/libraries.md). Every route of the broker is listed under
[Endpoints](#endpoints).""",
    "docs/src/administration.md": """\
Connecting a tenant step by step, the import rules, re-sync and the Graph calls are under
[Connecting an Entra tenant](#connecting-an-entra-tenant-step-by-step).""",
    "docs/src/policy.md": """\
Two parts of the policy are described with the operations: how a changed file is applied
([Live reload](#live-reload)) and the audit log ([`audit`](#audit)).""",
    "docs/src/operations.md": """\
Running the broker for others: how a changed policy is applied ([Live reload](#live-reload)),
[serving HTTPS](#serving-https), several [replicas](#replicas) on one Redis,
[metrics](#metrics) and the [audit log](#audit). `/healthz` and `/readyz` are described under
[Endpoints](#endpoints), signing-key rotation under [Signing keys](#signing-keys), and what the
broker costs under [Benchmarks](#benchmarks).

## Serving HTTPS

- **Directly.** Give the policy `tls: {cert: …, key: …}` (PEM files) and an `https` issuer. The
  broker then serves only HTTPS on `listen`, and picks up a renewed certificate at the same
  paths within 5 seconds, without a restart. The details (TLS versions, ALPN, what happens to a
  half-written pair) are under [Top level](#top-level).
- **Behind a TLS-terminating proxy.** Keep an `https` issuer, and list the proxy in
  `trusted_proxies` (see [Top level](#top-level)) so that rate limits and audit records see the
  client's address.
- **For development**, `idbroker dev-cert` writes a self-signed certificate for localhost, and
  `idbroker serve --dev-tls` uses it (see [Command line](#command-line)).
- With an `https` issuer, cookies are `Secure` with the `__Host-` prefix, and HSTS is sent (see
  [Security notes](#security-notes)). `tests/it/tls.rs` tests serving and renewal.""",
    "docs/src/design/README.md": """\
One page per topic:

{children}
- Replicas: under [Operations](#replicas).""",
}

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")
LINK = re.compile(r"(\]\()([^)\s]+)(\))")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
SNIPPET = re.compile(r"^\s*<!-- snippet: (\S+)#(\S+) -->\s*$")


class Fail(Exception):
    pass


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def slug(heading_text):
    """The anchor GitHub (and mdBook) give a heading: lower case, markup and punctuation
    dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading_text)
    text = text.replace("`", "").replace("*", "")
    return "".join(
        c.lower() if (c.isalnum() or c in "_-") else "-" if c.isspace() else ""
        for c in text
    )


def lines_outside_fences(text):
    """(line, in_fence) for every line; fence lines count as inside."""
    fence = None
    for line in text.split("\n"):
        m = FENCE.match(line)
        if fence is None:
            if m:
                fence = m.group(1)
            yield line, fence is not None
        else:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and not m.group(2).strip():
                fence = None
            yield line, True


def headings(text):
    """(level, text) of every heading outside code blocks."""
    out = []
    for line, fenced in lines_outside_fences(text):
        if not fenced:
            m = HEADING.match(line)
            if m:
                out.append((len(m.group(1)), m.group(2)))
    return out


def anchors_of(text):
    """The anchors a rendered page has, GitHub-style (a repeated one gets -1, -2, ...)."""
    seen = {}
    out = set()
    for _, h in headings(text):
        s = slug(h)
        n = seen.get(s, 0)
        seen[s] = n + 1
        out.add(s if n == 0 else f"{s}-{n}")
    return out


def parse_readme(text):
    """The README as sections: [(level, heading line, body lines)], split at # to ###."""
    sections = []
    current = None
    for line, fenced in lines_outside_fences(text):
        m = None if fenced else HEADING.match(line)
        if m and len(m.group(1)) <= 3:
            current = (len(m.group(1)), line.rstrip(), [])
            sections.append(current)
        elif current is None:
            if line.strip():
                raise Fail(f"{README}: text before the first heading: {line!r}")
        else:
            current[2].append(line)
    return sections


def exists(path, known):
    return path in known or os.path.exists(os.path.join(ROOT, path))


def rewrite_links(text, source_dir, page, anchor_pages, titles, where):
    """Rewrites the links of `text` (written relative to `source_dir`) for `page`. A link to
    the title of another page (`titles`: page -> anchor of its `#` heading) names the page
    alone."""
    known = {p for p, _, _, _ in PAGES}
    page_dir = os.path.dirname(page)

    def target(t):
        if re.match(r"^[a-z][a-z0-9+.-]*:", t):
            return t  # http:, https:, mailto:
        path, _, frag = t.partition("#")
        if not path:
            if frag not in anchor_pages:
                raise Fail(f"{where}: link to #{frag}: no page has that heading")
            dest = anchor_pages[frag]
            if dest == page:
                return "#" + frag
            rel = os.path.relpath(dest, page_dir or ".")
            return rel if frag == titles.get(dest) else rel + "#" + frag
        full = os.path.normpath(os.path.join(source_dir, path))
        if full == README:
            raise Fail(f"{where}: link to {t}: the README is being split; link to #anchor")
        if not exists(full, known):
            raise Fail(f"{where}: link to {t}: {full} does not exist")
        rel = os.path.relpath(full, page_dir or ".")
        if path.endswith("/") and not rel.endswith("/"):
            rel += "/"
        return rel + ("#" + frag if frag else "")

    def outside_code(line):
        parts = []
        pos = 0
        for m in CODE_SPAN.finditer(line):
            parts.append(LINK.sub(lambda l: l.group(1) + target(l.group(2)) + l.group(3),
                                  line[pos:m.start()]))
            parts.append(m.group(0))
            pos = m.end()
        parts.append(LINK.sub(lambda l: l.group(1) + target(l.group(2)) + l.group(3),
                              line[pos:]))
        return "".join(parts)

    return "\n".join(
        line if fenced else outside_code(line) for line, fenced in lines_outside_fences(text)
    )


def shift_headings(body, by):
    out = []
    for line, fenced in lines_outside_fences("\n".join(body)):
        m = None if fenced else HEADING.match(line)
        if m and by:
            level = min(6, max(1, len(m.group(1)) + by))
            line = "#" * level + line[len(m.group(1)):]
        out.append(line)
    return out


def anchored(path, name):
    """The lines of `path` between `ANCHOR: name` and `ANCHOR_END: name`."""
    lines = read(path).split("\n")
    start = [i for i, l in enumerate(lines) if l.rstrip().endswith(f"ANCHOR: {name}")]
    end = [i for i, l in enumerate(lines) if l.rstrip().endswith(f"ANCHOR_END: {name}")]
    if len(start) != 1 or len(end) != 1 or end[0] <= start[0]:
        raise Fail(f"{path}: expected one `ANCHOR: {name}` line before one `ANCHOR_END: {name}`")
    return lines[start[0] + 1:end[0]]


def fill_snippets(text, page):
    """Copies each `<!-- snippet: path#anchor -->`'s region into the fenced block after it."""
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        out.append(lines[i])
        m = SNIPPET.match(lines[i])
        i += 1
        if not m:
            continue
        if i >= len(lines) or not FENCE.match(lines[i]):
            raise Fail(f"{page}: no fenced block after {lines[i - 1].strip()}")
        fence = FENCE.match(lines[i]).group(1)
        out.append(lines[i])
        i += 1
        while i < len(lines) and lines[i].strip() != fence:
            i += 1
        if i >= len(lines):
            raise Fail(f"{page}: the block after {m.group(0).strip()} is not closed")
        out.extend(anchored(m.group(1), m.group(2)))
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def build():
    """{path: text} of every page, SUMMARY.md and benches/README.md, from README.md."""
    readme = read(README)
    sections = parse_readme(readme)
    table = {h: (page, level) for h, page, level in SECTIONS}
    if len(table) != len(SECTIONS):
        raise Fail("split-readme.py: a heading is listed twice in SECTIONS")
    pages = {p: (title, depth, kind) for p, title, depth, kind in PAGES}
    for h, page, _ in SECTIONS:
        if page is not DROP and (page not in pages or pages[page][2] == "static"):
            raise Fail(f"split-readme.py: {h!r} goes to {page}, which is not a generated page")
    found = [h for _, h, _ in sections]
    unknown = [h for h in found if h not in table]
    if unknown:
        raise Fail(
            "README.md has headings that split-readme.py does not place; add each to SECTIONS"
            " (a page and a level, or DROP):\n  " + "\n  ".join(unknown)
        )
    missing = [h for h in table if h not in found]
    if missing:
        raise Fail(
            "SECTIONS lists headings that README.md no longer has; remove or rename them:\n  "
            + "\n  ".join(missing)
        )
    body_of = {h: (level, body) for level, h, body in sections}

    # Assemble each generated page from its sections, in SECTIONS order.
    raw = {}
    for path, title, depth, kind in PAGES:
        if kind == "static":
            continue
        parts = []
        entries = [(h, lv) for h, p, lv in SECTIONS if p == path]
        if not entries:
            raise Fail(f"split-readme.py: no section goes to {path}")
        intro = INTROS.get(path)
        if intro is not None and "{children}" in intro:
            children = []
            after = False
            for p, t, d, k in PAGES:
                if p == path:
                    after = True
                elif after and d is not None and d > depth:
                    children.append(f"- [{t}]({p})")
                elif after:
                    break
            intro = intro.replace("{children}", "\n".join(children))
        if entries[0][1] != 1:
            parts.append(f"# {title}")
            if intro is not None:
                parts.append(intro)
                intro = None
        for h, level in entries:
            src_level, body = body_of[h]
            heading = "#" * level + h[src_level:]
            text = "\n".join([heading] + shift_headings(body, level - src_level)).strip("\n")
            parts.append(text)
            if intro is not None:
                parts.append(intro)
                intro = None
        raw[path] = "\n\n".join(parts) + "\n"
        if sum(1 for lv, _ in headings(raw[path]) if lv == 1) != 1:
            raise Fail(f"split-readme.py: {path} would not have exactly one title (# heading)")

    # Which page has which anchor; an anchor on two pages is ambiguous.
    anchor_pages = {}
    for path, text in raw.items():
        for a in anchors_of(text):
            if a in anchor_pages:
                raise Fail(
                    f"split-readme.py: the anchor #{a} is on both {anchor_pages[a]} and {path}"
                )
            anchor_pages[a] = path

    titles = {p: slug(h) for p, t in raw.items() for lv, h in headings(t) if lv == 1}
    out = {}
    for path, text in raw.items():
        text = rewrite_links(text, "", path, anchor_pages, titles, path)
        out[path] = GENERATED + "\n\n" + text

    summary = ["# Summary", ""]
    for path, title, depth, kind in PAGES:
        if kind == "outside":
            continue
        rel = os.path.relpath(path, "docs/src")
        if depth is None:
            summary += [f"[{title}]({rel})", ""]
        else:
            summary.append("  " * depth + f"- [{title}]({rel})")
    out[SUMMARY] = "\n".join(summary) + "\n"
    return out


def page_links(text):
    for line, fenced in lines_outside_fences(text):
        if fenced:
            continue
        line = CODE_SPAN.sub("", line)
        for m in LINK.finditer(line):
            yield m.group(2)


def check_links(texts):
    """Every relative link of every page (and of the short README, read from the repository
    root where it will live) names a file that exists, and an anchor that page has."""
    anchors = {p: anchors_of(t) for p, t in texts.items()}
    for path, text in texts.items():
        base = "" if path == SHORT else os.path.dirname(path)
        for t in page_links(text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", t):
                continue
            file, _, frag = t.partition("#")
            dest = os.path.normpath(os.path.join(base, file)) if file else path
            if path == SHORT and dest == SHORT:
                dest = README
            if file and not exists(dest, texts):
                raise Fail(f"{path}: link to {t}: {dest} does not exist")
            if frag and dest in anchors and frag not in anchors[dest]:
                raise Fail(f"{path}: link to {t}: {dest} has no heading #{frag}")


def static_pages():
    return {p: fill_snippets(read(p), p) for p, _, _, kind in PAGES if kind == "static"}


def write(path, text):
    full = os.path.join(ROOT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def current(path):
    try:
        return read(path)
    except FileNotFoundError:
        return None


def main(argv):
    mode = argv[1] if len(argv) > 1 else ""
    if mode not in ("", "--check", "--snippets", "--finalize") or len(argv) > 2:
        print(__doc__.strip().split("\n\n")[0], file=sys.stderr)
        return 2
    try:
        if mode == "--snippets":
            texts = static_pages()
        else:
            if not os.path.exists(os.path.join(ROOT, SHORT)):
                raise Fail(
                    f"{SHORT} is gone: the README was already split for good (--finalize)."
                    " Edit the pages directly; --snippets still copies the tested snippets."
                )
            texts = build()
            texts.update(static_pages())
            check_links({**texts, SHORT: read(SHORT)})
        changed = [p for p in sorted(texts) if current(p) != texts[p]]
        if mode == "--check":
            for p in changed:
                print(f"out of date: {p}", file=sys.stderr)
            return 1 if changed else 0
        for p in changed:
            write(p, texts[p])
            print(f"wrote {p}")
        if mode == "--finalize":
            for p, text in texts.items():
                if text.startswith(GENERATED + "\n\n"):
                    write(p, text[len(GENERATED) + 2:])
            write(README, read(SHORT))
            os.remove(os.path.join(ROOT, SHORT))
            print(f"README.md is now the short README; {SHORT} is removed. The pages are the"
                  " source from now on.")
    except Fail as e:
        print(f"split-readme.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
