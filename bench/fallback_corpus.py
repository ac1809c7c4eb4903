#!/usr/bin/env python3
"""Small built-in corpus generator, used by run.py when gen_corpus.py is not available.

    python bench/fallback_corpus.py --n 1000 --out DIR [--seed 7]

It writes a kabargen site only (kabargen.yaml, content/rilis/YYYY/MM/SLUG.md, one plain
page) and DIR/edit-target.txt naming the release in the middle of the corpus. The front
matter has the shape of the content model: title, date, location, byline with roles and
credits, editor, tags (some written as capitalised hashtags), related releases and outside
links; bodies have 6-10 paragraphs with [[slug]] links and "Baca Juga" callouts. The same
--n and --seed give the same bytes. Every link points to an older release, so no release
links forward to one published after it.

It is a stand-in: the peers' sites (Hugo, Pelican) and the reference figures come from
gen_corpus.py, so only kabargen is measured on this corpus.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import re
from pathlib import Path

WITA = dt.timezone(dt.timedelta(hours=8))

# Word lists written for this generator (Indonesian, generic press-office vocabulary).
ACTORS = [
    "Bupati", "Wakil Bupati", "Sekretaris Daerah", "Kepala Dinas Kominfo", "Camat Sebulu",
    "Dinas Kesehatan", "Dinas Pendidikan", "Dinas Perhubungan", "Bappeda", "Inspektorat",
    "Dinas Sosial", "Dinas Pertanian", "Badan Kepegawaian", "Satpol PP", "Lurah Timbau",
]
ACTIONS = [
    "meninjau", "membuka", "menyerahkan", "membahas", "meluncurkan", "menandatangani",
    "menghadiri", "memantau", "menyiapkan", "mengumumkan", "memperluas", "menata",
]
OBJECTS = [
    "posko layanan terpadu", "program bedah rumah", "jaringan fiber desa", "pasar murah",
    "gerakan tanam pohon", "klinik keliling", "lomba inovasi desa", "forum anak daerah",
    "kartu pelajar digital", "sentra kuliner", "jalan usaha tani", "taman baca warga",
    "layanan adminduk keliling", "pelatihan operator desa", "sumur bor", "rumah singgah",
]
PLACES = [
    "Tenggarong", "Loa Kulu", "Sebulu", "Muara Kaman", "Kota Bangun", "Samboja",
    "Anggana", "Marangkayu", "Tabang", "Muara Muntai",
]
CLAUSES = [
    "bersama perangkat desa setempat", "sesuai rencana kerja tahun berjalan",
    "dengan melibatkan warga sekitar", "agar manfaatnya segera dirasakan",
    "setelah melalui rapat koordinasi", "dalam rangka pelayanan publik",
    "untuk mempercepat pemerataan", "yang dibiayai anggaran daerah",
    "sebagai tindak lanjut usulan musrenbang", "dengan pengawasan tim teknis",
]
QUOTES = ["kata dia", "ujar dia", "jelasnya", "tambahnya"]
GIVEN = ["Ayu", "Bagus", "Candra", "Dian", "Endah", "Fikri", "Hana", "Imam", "Laras",
         "Nova", "Rizal", "Sinta", "Toni", "Vina", "Yuda", "Wiwik"]
FAMILY = ["Prasetyo", "Lestiani", "Ramli", "Safitri", "Hakim", "Manurung", "Yuliani",
          "Fauzan", "Pangaribuan", "Oktaviani"]
WRITER_ROLES = ["Pranata Humas Terampil", "Staf Liputan", "Fotografer", "Tenaga Ahli Peliputan"]
EDITOR_ROLES = ["Pranata Humas Ahli Muda", "Kepala Seksi Publikasi"]
CREDITS = [["penulis"], ["penulis", "fotografer"], ["fotografer"]]
TAGS = ["pemkab", "kominfo", "kesehatan", "pendidikan", "desa", "pertanian", "jalan",
        "sosial", "umkm", "pariwisata", "lingkungan", "olahraga", "digital", "pangan",
        "budaya", "anak", "perempuan", "banjir", "air", "listrik", "koperasi", "pasar",
        "adminduk", "beasiswa", "posyandu", "stunting", "perhubungan", "wisata", "hutan", "ikan"]


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def quote(text: str) -> str:
    """YAML double-quoted scalar (content here is ASCII and never holds a quote or backslash)."""
    return '"' + text + '"'


def sentence(rng: random.Random) -> str:
    text = (f"{rng.choice(ACTORS)} {rng.choice(ACTIONS)} {rng.choice(OBJECTS)} "
            f"{rng.choice(CLAUSES)}")
    if rng.random() < 0.3:
        text += f" di {rng.choice(PLACES)}"
    if rng.random() < 0.15:
        return f"\u201c{text},\u201d {rng.choice(QUOTES)}."
    return text + "."


def generate(out: Path, n: int, seed: int = 7) -> list[str]:
    """Write the site into out; return the release paths relative to out."""
    rng = random.Random(seed)
    names = [f"{g} {f}" for g in GIVEN for f in FAMILY]
    rng.shuffle(names)
    writers = [(name, rng.choice(WRITER_ROLES)) for name in names[:24]]
    editors = [(name, rng.choice(EDITOR_ROLES)) for name in names[24:30]]
    weights = [1.0 / (k + 1) for k in range(len(TAGS))]
    start = dt.datetime(2018, 1, 1, 8, 0, tzinfo=WITA)
    # Spread the releases over seven past years whatever n is (a future date would be unpublished).
    step = max(2, int(2 * 7 * 365 * 24 * 60 / max(n, 1)) - 1)
    minutes = 0
    releases = []  # (slug, path)
    out.mkdir(parents=True, exist_ok=True)
    (out / "kabargen.yaml").write_text(
        "title: Siaran Pers Uji Kecepatan\n"
        "base_url: https://rilis.example.go.id/\n"
        "language: id\n"
        "timezone: Asia/Makassar\n"
        "per_page: 10\n"
        "organization:\n"
        "  name: Diskominfo Kabupaten Contoh\n", encoding="utf-8")
    for i in range(n):
        minutes += rng.randint(1, step)  # strictly increasing: links only ever point back
        date = start + dt.timedelta(minutes=minutes)
        title = (f"{rng.choice(ACTORS)} {rng.choice(ACTIONS).capitalize()} "
                 f"{rng.choice(OBJECTS).title()} di {rng.choice(PLACES)}")
        slug = "-".join(slugify(title).split("-")[:6]) + f"-{i:05d}"
        fm = ["---", f"title: {quote(title)}", f"date: {date:%Y-%m-%d %H:%M}",
              f"location: {quote(rng.choice(PLACES) + ', Kutai Kartanegara')}", "byline:"]
        for name, role in rng.sample(writers, rng.choice([1, 1, 2])):
            credit = ", ".join(rng.choice(CREDITS))
            fm += [f"  - name: {quote(name)}", f"    role: {quote(role)}", f"    credit: [{credit}]"]
        name, role = rng.choice(editors)
        fm += ["editor:", f"  name: {quote(name)}", f"  role: {quote(role)}"]
        tags, count = [], rng.randint(2, 6)
        while len(tags) < count:
            tag = rng.choices(TAGS, weights=weights)[0]
            if tag not in tags:
                tags.append(tag)
        written = [quote("#" + t.capitalize()) if (i + k) % 9 == 0 else t for k, t in enumerate(tags)]
        fm.append(f"tags: [{', '.join(written)}]")
        older = releases[max(0, i - 200):i]
        related = sorted({rng.randrange(len(older)) for _ in range(rng.randint(0, 2))}) if older else []
        outside = rng.random() < 0.04
        if related or outside:
            fm.append("related:")
            fm += [f"  - {older[k][0]}" for k in related]
            if outside:
                fm += ["  - title: Portal Satu Data", "    url: https://data.example.go.id/"]
        fm += ["---", ""]
        paragraphs = [" ".join(sentence(rng) for _ in range(rng.randint(3, 6)))
                      for _ in range(rng.randint(6, 10))]
        if older and rng.random() < 0.5:
            k = rng.randrange(1, len(paragraphs))
            paragraphs[k] = paragraphs[k][:-1] + f", seperti dalam [[{rng.choice(older)[0]}]]."
        if older and rng.random() < 0.3:
            paragraphs.insert(rng.randrange(1, len(paragraphs)), f"Baca Juga: [[{rng.choice(older)[0]}]]")
        rel = f"content/rilis/{date:%Y}/{date:%m}/{slug}.md"
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(fm) + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
        releases.append((slug, rel))
    page = out / "content/halaman/tentang.md"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text("---\ntitle: Tentang\nlayout: page\n---\nHalaman contoh untuk uji kecepatan.\n",
                    encoding="utf-8")
    paths = [rel for _, rel in releases]
    if paths:
        (out / "edit-target.txt").write_text(paths[len(paths) // 2] + "\n", encoding="utf-8")
    return paths


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        ap.error(f"{args.out} is not empty")
    generate(args.out, args.n, args.seed)


if __name__ == "__main__":
    main()
