#!/usr/bin/env python3
"""Assemble the demo model's training corpus from text that Debian packages install.

Five domains that a router can tell apart, each from one source (package, path, licence in SOURCES):
English prose, Python source code, dictionary definitions, German, and numeric tables. Each domain is cut into
documents, shuffled with a fixed seed, capped at --chars-per-domain characters, and split into train and
held-out (the last --heldout-share of documents). Writes <out>/<domain>.{train,heldout}.jsonl.gz (one
{"text": ...} per document) and <out>/sources.json (what was taken, how much, under which licence).

Needs: apt-get install -y debian-reference-en python3.11 dict-gcide fortunes-de pci.ids usb.ids
Run:   python3 tools/demo/build_corpus.py --out .demo/corpus
"""
import argparse
import glob
import gzip
import html
import json
import os
import random
import re

SOURCES = {
    "prose": {
        "package": "debian-reference-en 2.100, python3.11-doc 3.11.2",
        "paths": ["/usr/share/debian-reference/*.en.html", "/usr/share/doc/python3.11/html/_sources/**/*.rst.txt"],
        "licence": "GPL-2+ (Debian Reference, Osamu Aoki); PSF-2.0 (Python documentation)",
        "what": "the Debian Reference manual and the Python 3.11 documentation, as paragraphs of running text "
                "(HTML tags, reST markup, code blocks and indented listings removed)",
    },
    "code": {
        "package": "libpython3.11-stdlib / python3.11-minimal",
        "paths": ["/usr/lib/python3.11/*.py", "/usr/lib/python3.11/*/*.py"],
        "licence": "PSF-2.0 (Python standard library)",
        "what": "Python 3.11 standard library modules, split at top-level def/class",
    },
    "dictionary": {
        "package": "dict-gcide 0.48.5",
        "paths": ["/usr/share/dictd/gcide.dict.dz"],
        "licence": "GPL-3+ (GNU Collaborative International Dictionary of English)",
        "what": "GCIDE dictionary entries (headword, pronunciation, definitions)",
    },
    "german": {
        "package": "fortunes-de 0.35",
        "paths": ["/usr/share/games/fortunes/de/*.u8"],
        "licence": "GPL-2+ (fortunes-de; individual quotations as credited there)",
        "what": "German fortune-cookie texts: quotations, anecdotes, jokes",
    },
    "tables": {
        "package": "pci.ids / usb.ids",
        "paths": ["/usr/share/misc/pci.ids", "/usr/share/misc/usb.ids"],
        "licence": "GPL-2+ or BSD-3-Clause (The PCI ID Repository, The USB ID Repository)",
        "what": "PCI and USB vendor/device id tables (hex ids, names), in blocks of lines",
    },
}


def files(domain):
    found = []
    for pattern in SOURCES[domain]["paths"]:
        found += sorted(glob.glob(pattern, recursive=True))
    if not found:
        raise SystemExit(f"{domain}: nothing at {SOURCES[domain]['paths']}; install {SOURCES[domain]['package']}")
    return found


def read(path):
    opener = gzip.open if path.endswith((".gz", ".dz")) else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        return f.read()


def chunks(text, size):
    """Cut text into documents of about `size` characters at line boundaries."""
    out, cur = [], []
    n = 0
    for line in text.splitlines(keepends=True):
        cur.append(line)
        n += len(line)
        if n >= size:
            out.append("".join(cur))
            cur, n = [], 0
    if n > size // 4:
        out.append("".join(cur))
    return out


def rst_paragraphs(text):
    """Running-text paragraphs of a reST file: no directives, no indented blocks, inline markup unwrapped."""
    out = []
    for para in re.split(r"\n\s*\n", text):
        lines = para.split("\n")
        if any(l.startswith((" ", "\t", "..", ":", "=", "-", "*", "+", "|", ">>>")) for l in lines) or len(para) < 80:
            continue
        para = re.sub(r":[a-z:]+:`~?([^`<]*?)(?: <[^>]*>)?`", r"\1", para)
        para = re.sub(r"`+([^`]*?)(?: <[^>]*>)?`+_*", r"\1", para)
        para = re.sub(r"\*\*?([^*]+)\*\*?", r"\1", para)
        out.append(re.sub(r"\s+", " ", para).strip() + "\n")
    return out


def prose_docs():
    docs = []
    for path in files("prose"):
        raw = read(path)
        if path.endswith(".rst.txt"):
            docs += rst_paragraphs(raw)
            continue
        raw = re.sub(r"(?s)<(script|style|pre)[^>]*>.*?</\1>", " ", raw)  # code listings belong to no prose
        for para in re.findall(r"(?s)<p[^>]*>(.*?)</p>", raw):
            text = html.unescape(re.sub(r"<[^>]+>", "", para))
            text = re.sub(r"\s+", " ", text).strip()
            if len(text) > 80:
                docs.append(text + "\n")
    # group consecutive paragraphs into documents of ~1,500 characters
    return chunks("".join(docs), 1500)


def code_docs():
    docs = []
    for path in files("code"):
        text = read(path)
        parts = re.split(r"\n(?=(?:def|class|async def) )", text)
        docs += [p.strip("\n") + "\n" for p in parts if 200 < len(p) < 6000]
    return docs


def dictionary_docs():
    text = read(files("dictionary")[0])
    entries = [e.strip() for e in re.split(r"\n(?=[A-Z][^\n]{0,40}\n)", text) if len(e.strip()) > 60]
    return chunks("\n\n".join(entries), 1500)


def german_docs():
    docs = []
    for path in files("german"):
        docs += [d.strip() + "\n" for d in read(path).split("\n%\n") if len(d.strip()) > 40]
    return docs


def tables_docs():
    docs = []
    for path in files("tables"):
        body = "".join(l for l in read(path).splitlines(keepends=True) if not l.startswith("#"))
        docs += chunks(body, 1200)
    return docs


BUILDERS = {"prose": prose_docs, "code": code_docs, "dictionary": dictionary_docs, "german": german_docs, "tables": tables_docs}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=".demo/corpus")
    parser.add_argument("--chars-per-domain", type=int, default=3_000_000)
    parser.add_argument("--heldout-share", type=float, default=0.04)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    summary = {}
    for domain, build in BUILDERS.items():
        docs = build()
        random.Random(args.seed).shuffle(docs)
        kept, total = [], 0
        for d in docs:
            if total >= args.chars_per_domain:
                break
            kept.append(d)
            total += len(d)
        cut = len(kept) - max(20, int(len(kept) * args.heldout_share))
        for split, part in (("train", kept[:cut]), ("heldout", kept[cut:])):
            with gzip.open(os.path.join(args.out, f"{domain}.{split}.jsonl.gz"), "wt", encoding="utf-8") as f:
                for d in part:
                    f.write(json.dumps({"text": d}, ensure_ascii=False) + "\n")
        summary[domain] = dict(SOURCES[domain], documents=len(kept), characters=total,
                               trainDocuments=cut, heldoutDocuments=len(kept) - cut, available=len(docs))
        print(f"{domain:10s} {len(kept):6d} documents, {total / 1e6:5.2f} M characters (of {len(docs)} available)")
    with open(os.path.join(args.out, "sources.json"), "w") as f:
        json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
