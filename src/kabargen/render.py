"""Site -> pages: runs the templates and writes feeds, sitemap and robots; writes no files."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping
from xml.sax.saxutils import escape as xml_escape, quoteattr

import jinja2
from babel.dates import format_datetime
from markupsafe import Markup, escape

from .config import Config
from .model import DRAFT, EMBARGOED, Credit, Page, Release, Site
from .theme import Theme

# Common names of Indonesia's zones; Babel spells them only for the id locale.
ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
_XREF_A = re.compile(r'<a data-xref="([^"]*)"(?: data-xref-fragment="([^"]*)")?>(.*?)</a>', re.S)
# Characters XML 1.0 forbids; content may carry them by accident.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def json_for_script(data: Any) -> str:
    """JSON that cannot end or comment out the <script> element it sits in."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )


def xml_text(value: Any) -> str:
    """Escape text for XML, dropping characters XML cannot carry."""
    return xml_escape(_XML_BAD.sub("", str(value)))


@dataclass(frozen=True)
class BylineGroup:
    """People who share the same credits on one release: "Penulis & Fotografer: A (x), B (y)"."""

    label: str
    people: tuple[Credit, ...]


class Renderer:
    """Renders every page of a Site. Reads the Site; never touches the disk."""

    def __init__(self, config: Config, site: Site, env: jinja2.Environment, theme: Theme):
        self.config = config
        self.site = site
        self.env = env
        self.theme = theme
        self.strings = theme.strings
        self.tags = {t.slug: t for t in site.tags}
        self.people = {p.slug: p for p in site.people}
        self.locale = config.language.replace("-", "_")
        env.globals.update(
            url=self.url,
            abs_url=self.abs_url,
            asset=self.asset,
            t=self.t,
            t_html=self.t_html,
            config=config,
            site=site,
            organization=config.organization or {},
            lang=config.language,
            drafts=site.drafts,
        )
        env.filters.update(
            date_long=self.date_long,
            datetime_long=self.datetime_long,
            iso=lambda d: d.isoformat() if d else "",
            filesize=self.filesize,
        )
        self._cards: dict[str, Markup] = {}

    # -- helpers available in templates --------------------------------------------

    def url(self, path: str = "") -> str:
        """A site path (below the base path) as a link that works from any page."""
        return self.config.base_path + path.lstrip("/")

    def abs_url(self, path: str = "") -> str:
        """An absolute URL when base_url has a host; else the same as url()."""
        if self.config.absolute:
            return self.config.base_url + path.lstrip("/")
        return self.url(path)

    def asset(self, name: str) -> str:
        return self.url(self.theme.assets[name][1])

    def t(self, key: str, **values: Any) -> str:
        """A UI string in the site's language, with {placeholders} filled in."""
        text = self.strings.get(key, key)
        return text.format(**values) if values else text

    def t_html(self, key: str, **values: Any) -> Markup:
        """A UI string with HTML (a link) in its placeholders: the string is escaped, Markup values kept."""
        return Markup(escape(self.strings.get(key, key))).format(**values)

    def _zone(self, moment: datetime) -> str:
        name = ZONE_NAMES.get(self.config.timezone)
        if name:
            return name
        return format_datetime(moment, "zzz", tzinfo=self.config.tz, locale=self.locale)

    def date_long(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        return format_datetime(moment, self.t("date_format"), tzinfo=self.config.tz, locale=self.locale)

    def datetime_long(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        text = format_datetime(moment, self.t("datetime_format"), tzinfo=self.config.tz, locale=self.locale)
        return f"{text} {self._zone(moment)}"

    def filesize(self, size: int) -> str:
        if size < 1024:
            return f"{size} B"
        if size < 1024 * 1024:
            return f"{size / 1024:.0f} KB"
        return f"{size / 1024 / 1024:.1f} MB".replace(".", "," if self.config.language.startswith("id") else ".")

    # -- building blocks -------------------------------------------------------------

    def body(self, release: Release, absolute: bool = False) -> Markup:
        """The release body with [[slug]] placeholders turned into links."""

        def link(m: re.Match) -> str:
            ref, fragment, text = m.group(1), m.group(2) or "", m.group(3)
            target = self._lookup(ref)
            if target is None:
                return f"<span>{text}</span>" if text else ""
            label = text or str(escape(target.title))
            href = (self.abs_url(target.url) if absolute else self.url(target.url)) + fragment
            return f'<a href="{escape(href)}">{label}</a>'

        return Markup(_XREF_A.sub(link, release.body_html))

    def _lookup(self, ref: str) -> Release | None:
        from .slugs import slugify

        if ref.startswith("@"):
            rel = ref[1:]
            for r in self.site.releases.values():
                if r.rel == rel or r.rel.rsplit(".", 1)[0] == rel.rsplit(".", 1)[0]:
                    return r
            return None
        ref = ref.strip().strip("/")
        if "/" in ref:
            for r in self.site.releases.values():
                if r.rel == ref or r.rel.rsplit(".", 1)[0] == ref:
                    return r
        slug = slugify(ref)
        direct = self.site.releases.get(slug)
        if direct:
            return direct
        for key, r in self.site.releases.items():
            if key.casefold() == slug.casefold():
                return r
        return None

    def byline_groups(self, release: Release) -> list[BylineGroup]:
        """Group people by what they did, as offices write it."""
        groups: dict[tuple[str, ...], list[Credit]] = {}
        for person in release.byline + release.editors:
            groups.setdefault(person.credits, []).append(person)
        result = []
        for credits, people in groups.items():
            label = " & ".join(self.t(f"credit_{c}") if f"credit_{c}" in self.strings else c.capitalize() for c in credits)
            result.append(BylineGroup(label, tuple(people)))
        return result

    def person_url(self, slug: str) -> str:
        person = self.people.get(slug)
        return self.url(person.url) if person else ""

    def tag_links(self, release: Release) -> list[tuple[str, str]]:
        """(display name, URL or "") for each tag of a release."""
        out = []
        for slug in release.tags:
            tag = self.tags.get(slug)
            out.append((tag.name if tag else slug, self.url(tag.url) if tag else ""))
        return out

    def banner(self, release: Release) -> str:
        if not release.visible or release.status not in {DRAFT, EMBARGOED}:
            return ""
        if release.status == DRAFT:
            return self.t("banner_draft")
        return self.t("banner_embargo", date=self.datetime_long(release.publish_at))

    def jsonld(self, release: Release) -> Markup:
        org = self.config.organization or {}
        publisher: dict[str, Any] = {"@type": "GovernmentOrganization", "name": org.get("name") or self.config.title}
        if isinstance(org.get("logo"), str):
            publisher["logo"] = {"@type": "ImageObject", "url": self.abs_url(org["logo"])}
        if isinstance(org.get("url"), str):
            publisher["url"] = org["url"]
        data: dict[str, Any] = {
            "@context": "https://schema.org",
            "@type": "NewsArticle" if release.layout == "release" else "WebPage",
            "headline": release.title,
            "url": self.abs_url(release.url),
            "mainEntityOfPage": self.abs_url(release.url),
            "description": release.summary,
            "publisher": publisher,
            "inLanguage": self.config.language,
        }
        if release.layout == "release":
            data["datePublished"] = release.date.isoformat()
            data["dateModified"] = release.modified.isoformat()
            data["author"] = [self._person_ld(p) for p in release.byline]
            if release.editors:
                data["editor"] = [self._person_ld(p) for p in release.editors]
            if release.tags:
                data["keywords"] = [name for name, _ in self.tag_links(release)]
            if release.location:
                data["dateline"] = release.location
            if release.words:
                data["wordCount"] = release.words
        if release.image:
            data["image"] = [self.abs_url(release.image.url)]
        if release.withdrawn:
            data["creativeWorkStatus"] = "Withdrawn"
            data["expires"] = release.withdrawn.date.isoformat()
        return Markup(json_for_script(data))

    def _person_ld(self, person: Credit) -> dict:
        entry: dict[str, Any] = {"@type": "Person", "name": person.name}
        if person.role:
            entry["jobTitle"] = person.role
        if person.person in self.people:
            entry["url"] = self.abs_url(self.people[person.person].url)
        return entry

    def card(self, slug: str) -> Markup:
        """A release's entry in lists, rendered once and reused on every list page."""
        if slug not in self._cards:
            release = self.site.releases[slug]
            html = self.env.get_template("_card.html").render(release=release)
            self._cards[slug] = Markup(html)
        return self._cards[slug]

    # -- pages ---------------------------------------------------------------------

    def render(self) -> list[Page]:
        """Every page of the site, in a stable order."""
        pages: list[Page] = []
        pages.extend(self.release_pages())
        pages.extend(self.list_pages())
        pages.extend(self.index_pages())
        pages.extend(self.alias_pages())
        pages.extend(self.feeds())
        pages.append(self.sitemap())
        pages.append(self.robots())
        pages.append(self.not_found())
        pages.sort(key=lambda p: p.output_path)
        return pages

    def _page(self, url: str, template: str, **context: Any) -> Page:
        html = self.env.get_template(template).render(page_url=url, **context)
        return Page(url, html.encode("utf-8"))

    def release_pages(self) -> Iterable[Page]:
        for release in self.site.releases.values():
            if release.layout == "page":
                yield self._page(release.url, "page.html", release=release, body=self.body(release), banner=self.banner(release), noindex=not release.status == "published", jsonld=self.jsonld(release))
                continue
            prev = self.site.releases.get(release.prev)
            nxt = self.site.releases.get(release.next)
            yield self._page(
                release.url,
                "release.html",
                release=release,
                body=self.body(release),
                groups=self.byline_groups(release),
                person_url=self.person_url,
                tags=self.tag_links(release),
                prev=prev,
                next=nxt,
                banner=self.banner(release),
                noindex=release.status != "published",
                jsonld=self.jsonld(release),
                share_url=self.abs_url(release.url),
            )

    def _paginate(self, base_url: str, slugs: tuple[str, ...], template: str, **context: Any) -> Iterable[Page]:
        per = self.config.per_page
        total = max(1, -(-len(slugs) // per))
        for n in range(1, total + 1):
            url = base_url if n == 1 else f"{base_url}page/{n}/"
            prev_url = "" if n == 1 else (base_url if n == 2 else f"{base_url}page/{n - 1}/")
            next_url = f"{base_url}page/{n + 1}/" if n < total else ""
            cards = [self.card(slug) for slug in slugs[(n - 1) * per : n * per]]
            yield self._page(url, template, cards=cards, page_number=n, page_total=total, prev_url=prev_url, next_url=next_url, list_url=base_url, **context)

    def list_pages(self) -> Iterable[Page]:
        yield from self._paginate("", self.site.order, "list.html", kind="home", heading=self.config.title, feed_url="feed.xml")
        for tag in self.site.tags:
            yield from self._paginate(tag.url, tag.releases, "list.html", kind="tag", heading=self.t("tag_heading", name=tag.name), tag=tag, feed_url=tag.url + "feed.xml")
        for person in self.site.people:
            yield from self._paginate(person.url, person.releases, "list.html", kind="person", heading=person.name, person=person, feed_url="")
        for year in self.site.years:
            yield from self._paginate(year.url, year.releases, "list.html", kind="archive", heading=self.t("archive_heading", year=year.year), year=year, feed_url="")

    def index_pages(self) -> Iterable[Page]:
        tags = sorted(self.site.tags, key=lambda t: (-len(t.releases), t.slug))
        yield self._page("tag/", "tags.html", tags=tags)
        people = sorted(self.site.people, key=lambda p: (p.name.casefold(), p.slug))
        yield self._page("penulis/", "people.html", people=people, years=self.site.years)

    def alias_pages(self) -> Iterable[Page]:
        for alias in self.site.aliases:
            target = self.site.releases[alias.target]
            yield self._page(alias.path, "redirect.html", target=target)

    def not_found(self) -> Page:
        latest = [self.card(slug) for slug in self.site.order[:5]]
        return self._page("404.html", "404.html", cards=latest)

    # -- feeds, sitemap, robots ------------------------------------------------------

    def _feed_entries(self, slugs: Iterable[str]) -> list[Release]:
        entries = [self.site.releases[s] for s in slugs]
        entries.sort(key=lambda r: (-(r.modified or r.date).timestamp(), r.slug))
        return entries[: self.config.feed_limit]

    def feeds(self) -> Iterable[Page]:
        # The site feed also carries withdrawn releases, so readers learn of the withdrawal.
        site_slugs = [r.slug for r in self.site.releases.values() if r.layout == "release"]
        yield self.feed("feed.xml", self.config.title, "", self._feed_entries(site_slugs))
        withdrawn = [r for r in self.site.releases.values() if r.layout == "release" and r.withdrawn]
        for tag in self.site.tags:
            slugs = list(tag.releases) + [r.slug for r in withdrawn if tag.slug in r.tags]
            yield self.feed(tag.url + "feed.xml", f"{self.config.title}: {tag.name}", tag.url, self._feed_entries(slugs))

    def _id(self, path: str) -> str:
        if self.config.absolute:
            return self.abs_url(path)
        return "urn:kabargen:" + (path or "home")

    def feed(self, url: str, title: str, page: str, entries: list[Release]) -> Page:
        updated = max((r.modified for r in entries), default=None)
        out = ['<?xml version="1.0" encoding="utf-8"?>']
        out.append(f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang={quoteattr(self.config.language)}>')
        out.append(f"  <title>{xml_text(title)}</title>")
        out.append(f"  <id>{xml_text(self._id(url))}</id>")
        out.append(f'  <link rel="self" type="application/atom+xml" href={quoteattr(self.abs_url(url))}/>')
        out.append(f'  <link rel="alternate" type="text/html" href={quoteattr(self.abs_url(page))}/>')
        out.append(f"  <updated>{(updated or datetime(1970, 1, 1, tzinfo=timezone.utc)).isoformat()}</updated>")
        out.append(f"  <generator>kabargen</generator>")
        org = (self.config.organization or {}).get("name") or self.config.title
        out.append(f"  <author><name>{xml_text(org)}</name></author>")
        for r in entries:
            title = r.title
            summary = r.summary
            if r.withdrawn:
                title = f"{self.t('withdrawn_prefix')} {title}"
                summary = self.t("withdrawn_notice", date=self.datetime_long(r.withdrawn.date), reason=r.withdrawn.reason)
            out.append("  <entry>")
            out.append(f"    <title>{xml_text(title)}</title>")
            out.append(f'    <link rel="alternate" type="text/html" href={quoteattr(self.abs_url(r.url))}/>')
            out.append(f"    <id>{xml_text(self._id(r.url))}</id>")
            out.append(f"    <published>{r.date.isoformat()}</published>")
            out.append(f"    <updated>{r.modified.isoformat()}</updated>")
            for person in r.byline:
                uri = f"<uri>{xml_text(self.abs_url(self.people[person.person].url))}</uri>" if person.person in self.people else ""
                out.append(f"    <author><name>{xml_text(person.name)}</name>{uri}</author>")
            for slug in r.tags:
                tag = self.tags.get(slug)
                label = tag.name if tag else slug
                out.append(f"    <category term={quoteattr(_XML_BAD.sub('', slug))} label={quoteattr(_XML_BAD.sub('', label))}/>")
            out.append(f"    <summary>{xml_text(summary)}</summary>")
            content = self.env.get_template("_feed_content.html").render(release=r, body=self.body(r, absolute=True))
            out.append(f'    <content type="html">{xml_text(content)}</content>')
            out.append("  </entry>")
        out.append("</feed>")
        return Page(url, ("\n".join(out) + "\n").encode("utf-8"))

    def sitemap(self) -> Page:
        entries: list[tuple[str, datetime | None]] = []
        latest = max((self.site.releases[s].modified for s in self.site.order), default=None)
        entries.append(("", latest))
        for slug in self.site.order:
            r = self.site.releases[slug]
            if r.status == "published":
                entries.append((r.url, r.modified))
        for r in self.site.releases.values():
            if r.layout == "page" and r.status == "published" and not r.withdrawn:
                entries.append((r.url, r.modified))
        for tag in self.site.tags:
            entries.append((tag.url, self.site.releases[tag.releases[0]].modified if tag.releases else None))
        for person in self.site.people:
            entries.append((person.url, self.site.releases[person.releases[0]].modified if person.releases else None))
        for year in self.site.years:
            entries.append((year.url, None))
        entries.append(("tag/", None))
        entries.append(("penulis/", None))
        out = ['<?xml version="1.0" encoding="utf-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
        for path, modified in sorted(set(entries), key=lambda e: e[0]):
            lastmod = f"<lastmod>{modified.isoformat()}</lastmod>" if modified else ""
            out.append(f"  <url><loc>{xml_text(self.abs_url(path))}</loc>{lastmod}</url>")
        out.append("</urlset>")
        return Page("sitemap.xml", ("\n".join(out) + "\n").encode("utf-8"))

    def robots(self) -> Page:
        lines = ["User-agent: *"]
        lines.append("Disallow: /" if self.site.drafts else "Allow: /")
        lines.append(f"Sitemap: {self.abs_url('sitemap.xml')}")
        return Page("robots.txt", ("\n".join(lines) + "\n").encode("utf-8"))


def render_site(config: Config, site: Site, env: jinja2.Environment, theme: Theme) -> list[Page]:
    """Render every page of the site."""
    return Renderer(config, site, env, theme).render()
