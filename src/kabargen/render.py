"""Site -> pages: runs the templates and writes feeds, sitemap and robots; writes no files."""

from __future__ import annotations

import heapq
import json
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable
from urllib.parse import quote, urlsplit
from xml.sax.saxutils import escape as xml_escape, quoteattr

import jinja2
from babel import Locale
from babel.dates import format_datetime
from markupsafe import Markup, escape

from .config import Config
from .model import DRAFT, EMBARGOED, Credit, Page, Release, Site
from .theme import Theme, assigned_names

# Common names of Indonesia's zones; Babel spells them only for the id locale.
ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
_XREF_A = re.compile(r'<a data-xref="([^"]*)"(?: data-xref-fragment="([^"]*)")?>(.*?)</a>', re.S)
_XREF_REF = re.compile(r'<a data-xref="([^"]*)"')
_LOCAL_A = re.compile(r'<a href="(/[^"/][^"]*|/)"')
_TABLE_OPEN = re.compile(r"<table[\s>]")
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


@dataclass(frozen=True)
class PageMeta:
    """What a page tells search engines and social networks about itself (head tags)."""

    title: str  # the <title>
    description: str = ""
    canonical: str = ""
    og_title: str = ""
    og_type: str = "website"
    image: str = ""  # absolute URL of the page's picture (the lead image, else the logo)
    image_alt: str = ""
    image_width: int = 0  # set for the social cards the photos step made (1200x630)
    image_height: int = 0
    image_type: str = ""
    large_image: bool = False  # a 1200x630 card or a real photo: Twitter's summary_large_image card
    published: datetime | None = None
    modified: datetime | None = None
    tags: tuple[str, ...] = ()
    noindex: bool = False


@dataclass(frozen=True)
class NavItem:
    """A link of the main navigation; `current` is "page", "true" (in that section) or ""."""

    label: str
    url: str
    current: str = ""


@dataclass(frozen=True)
class Crumb:
    label: str
    url: str


@dataclass(frozen=True)
class ShareLink:
    """A plain link that shares a page: no script of the network is loaded."""

    kind: str  # email, whatsapp, facebook, x
    label: str
    url: str


@dataclass(frozen=True)
class RelatedItem:
    """An entry of the "Baca Juga" box, with the date of this site's releases."""

    title: str
    url: str
    date: datetime | None = None
    host: str = ""  # set for outside links
    print_url: str = ""  # the whole address of this site's releases, for print


FOOTER = "_footer.html"


class Renderer:
    """Renders every page of a Site. Reads the Site; never touches the disk."""

    # Template helpers whose results depend only on config, theme and their arguments: a
    # page's fingerprint need not say more about them (see cache.Fingerprints). A helper that
    # reads the site must be listed in helper_reads() instead, else pages using it are
    # always rendered.
    PURE_HELPERS = frozenset({
        "url", "abs_url", "asset", "t", "t_html", "date_long", "datetime_long", "datetime_short", "filesize", "iso",
        "nav_items", "credit_label", "print_url",
    })

    def __init__(self, config: Config, site: Site, env: jinja2.Environment, theme: Theme, reuse: Any = None, share: tuple[int, int] = (0, 1)):
        self.config = config
        self.site = site
        self.env = env
        self.theme = theme
        self.strings = theme.strings
        self.tags = {t.slug: t for t in site.tags}
        self.people = {p.slug: p for p in site.people}
        self.locale = config.language.replace("-", "_")
        self._base_path = config.base_path
        self._babel_locale = Locale.parse(self.locale)
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
            logo_url=self.url(_text(config.organization.get("logo"))) if config.organization and _text(config.organization.get("logo")) else "",
            nav_items=self.nav_items,
            credit_label=self.credit_label,
            print_url=self.print_url,
            organization_link=self.organization_link(),
            footer_pages=self.footer_pages(),
            og_locale=self.og_locale(),
        )
        env.filters.update(
            date_long=self.date_long,
            datetime_long=self.datetime_long,
            datetime_short=self.datetime_short,
            iso=lambda d: d.isoformat() if d else "",
            filesize=self.filesize,
        )
        self._cards: dict[str, Markup] = {}
        self._templates: dict[str, jinja2.Template] = {}
        footer = self._footer_once()
        if footer is not None:
            env.globals["site_footer"] = footer
        self._dates: dict[tuple[str, datetime], str] = {}
        self._refs: dict[str, Any] | None = None
        self._feed_order: dict[str, tuple] | None = None
        self._inputs_common: tuple[str | None] | None = None
        # This process renders the pages of share k of n (several processes split a build).
        self.share = share
        # Tells whether the output already holds a page (cache.PageReuse), or None.
        self.reuse = reuse
        # Renders only the pages at URLs this says yes to, instead of a share (see PageMaker).
        self.wanted: Callable[[str], bool] | None = None
        if reuse is not None:
            reuse.start(self)

    def _footer_once(self) -> Markup | None:
        """The footer, rendered once for every page, when it reads only what every page shares.

        It is the same on every page of the theme (the office, its links, the year archives),
        and rendering it on each of 20,000 pages cost 4 s of a build. A footer that reads a
        page's own values (page_url, release...) or a name some template sets (which an
        include would see), or that includes another template, is left to base.html to render
        on each page, as before; so is a footer with an error, which is then reported there.
        """
        from jinja2 import meta

        try:
            # Every name it looks up: Jinja's own finder leaves out the environment's globals.
            bare = jinja2.Environment()
            bare.filters.update(self.env.filters)
            bare.tests.update(self.env.tests)
            tree = bare.parse(self.env.loader.get_source(self.env, FOOTER)[0], FOOTER)
            reads = meta.find_undeclared_variables(tree)
            if list(meta.find_referenced_templates(tree)) or not reads <= set(self.env.globals) or reads & assigned_names(self.env, FOOTER):
                return None
            return Markup(self._template(FOOTER).render())
        except jinja2.TemplateError:
            return None

    # -- helpers available in templates --------------------------------------------

    def url(self, path: str = "") -> str:
        """A site path (below the base path) as a link that works from any page."""
        return self._base_path + path.lstrip("/")

    def abs_url(self, path: str = "") -> str:
        """An absolute URL when base_url has a host; else the same as url()."""
        if self.config.absolute:
            return self.config.base_url + path.lstrip("/")
        return self.url(path)

    def asset(self, name: str) -> str:
        return self.url(self.theme.assets[name][1])

    def t(self, key: str, **values: Any) -> str:
        """A UI string in the site's language, with {placeholders} filled in."""
        if values.get("n") == 1 and f"{key}_one" in self.strings:
            key = f"{key}_one"  # languages with a singular form: "1 release"
        text = self.strings.get(key, key)
        return text.format(**values) if values else text

    def t_html(self, key: str, **values: Any) -> Markup:
        """A UI string with HTML (a link) in its placeholders: the string is escaped, Markup values kept."""
        return Markup(escape(self.strings.get(key, key))).format(**values)

    def _zone(self, moment: datetime) -> str:
        name = ZONE_NAMES.get(self.config.timezone)
        if name:
            return name
        return format_datetime(moment, "zzz", tzinfo=self.config.tz, locale=self._babel_locale)

    def date_long(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        # Formatting with Babel is slow and the same moments recur on many list pages.
        key = ("date", moment)
        if key not in self._dates:
            self._dates[key] = format_datetime(moment, self.t("date_format"), tzinfo=self.config.tz, locale=self._babel_locale)
        return self._dates[key]

    def datetime_long(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        key = ("datetime", moment)
        if key not in self._dates:
            text = format_datetime(moment, self.t("datetime_format"), tzinfo=self.config.tz, locale=self._babel_locale)
            self._dates[key] = f"{text} {self._zone(moment)}"
        return self._dates[key]

    def datetime_short(self, moment: datetime | None) -> str:
        """Date and time without the weekday, as in corrections: "16 Mei 2025 08.00 WITA"."""
        if moment is None:
            return ""
        text = format_datetime(moment, self.t("datetime_short_format"), tzinfo=self.config.tz, locale=self.locale)
        return f"{text} {self._zone(moment)}"

    def credit_label(self, credit: str) -> str:
        """What a person did, in the site language: penulis -> "Penulis" / "Writer"."""
        key = f"credit_{credit}"
        return self.t(key) if key in self.strings else credit.capitalize()

    def nav_items(self, page_url: str) -> list[NavItem]:
        """The main navigation, marking the page or section the reader is in."""
        items = []
        for label, path in ((self.t("nav_home"), ""), (self.t("nav_tags"), "tag/"), (self.t("nav_people"), "penulis/")):
            section = {"": "", "tag/": self.config.permalinks["tag"], "penulis/": self.config.permalinks["person"]}[path]
            prefix = section.split("{")[0].lstrip("/")
            current = ""
            if page_url == path:
                current = "page"
            elif path and prefix and page_url.startswith(prefix):
                current = "true"
            items.append(NavItem(label, self.url(path), current))
        return items

    def footer_pages(self) -> list[tuple[str, str]]:
        """(title, URL) of the plain pages (about, contact), for the footer."""
        pages = [r for r in self.site.releases.values() if r.layout == "page" and r.status == "published"]
        return [(r.title, self.url(r.url)) for r in sorted(pages, key=lambda r: (r.title.casefold(), r.slug))]

    def organization_link(self) -> tuple[str, str]:
        """(URL, label without scheme) of the office's own website, for the footer; ("", "") if none."""
        url = _text((self.config.organization or {}).get("url"))
        if not url:
            return ("", "")
        parts = urlsplit(url)
        return (url, (parts.netloc + parts.path).rstrip("/") or url)

    def print_url(self, path: str) -> str:
        """The whole address of a site path, printed after links on paper; "" without a host."""
        return self.abs_url(path) if self.config.absolute else ""

    def og_locale(self) -> str:
        """The Open Graph locale (id_ID, en_US) of the site language."""
        from babel import Locale, UnknownLocaleError
        from babel.core import get_global

        try:
            locale = Locale.parse(self.locale)
            if not locale.territory:
                likely = get_global("likely_subtags").get(locale.language)
                locale = Locale.parse(likely) if likely else locale
        except (ValueError, UnknownLocaleError):
            return self.locale
        return f"{locale.language}_{locale.territory}" if locale.territory else locale.language

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

        html = _XREF_A.sub(link, release.body_html)
        if not absolute and self.config.absolute:
            # On paper a link is only its address: give the site's own links their whole one.
            origin = str(escape(self.abs_url("")[: -len(self.config.base_path)]))
            html = _LOCAL_A.sub(lambda m: f'<a data-print-url="{origin}{m.group(1)}" href="{m.group(1)}"', html)
        if not absolute:
            # A wide table scrolls inside its own box on a phone instead of the whole page; the box
            # is focusable and named so that keyboard and screen reader users can scroll it too.
            label = str(escape(self.t("table_scroll")))
            html = _TABLE_OPEN.sub(f'<div class="table-scroll" role="region" tabindex="0" aria-label="{label}">\\g<0>', html)
            html = html.replace("</table>", "</table></div>")
        return Markup(html)

    def _lookup(self, ref: str) -> Release | None:
        """The release a [[ref]] names: by path (@rel or a/b), else by slug, ignoring case."""
        from .slugs import slugify

        bare = ref.strip().strip("/")
        if not ref.startswith("@") and "/" not in bare:
            # A slug as written, the usual case: no index needed (it takes 30 ms to make at
            # 10,000 releases, much of a page rendered on its own for the preview).
            direct = self.site.releases.get(slugify(bare))
            if direct:
                return direct
        refs = self._refs
        if refs is None:
            # First match in site order wins, as a scan of the releases would find it.
            refs = self._refs = {"rel": {}, "stem": {}, "folded": {}, "position": {}}
            for i, (key, r) in enumerate(self.site.releases.items()):
                refs["position"][r.slug] = i
                refs["rel"].setdefault(r.rel, r)
                refs["stem"].setdefault(r.rel.rsplit(".", 1)[0], r)
                refs["folded"].setdefault(key.casefold(), r)
        if ref.startswith("@"):
            return refs["stem"].get(ref[1:].rsplit(".", 1)[0])
        if "/" in bare:
            hits = [r for r in (refs["rel"].get(bare), refs["stem"].get(bare)) if r is not None]
            if hits:
                return min(hits, key=lambda r: refs["position"][r.slug])
        slug = slugify(bare)
        direct = self.site.releases.get(slug)
        if direct:
            return direct
        return refs["folded"].get(slug.casefold())

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

    def publisher_ld(self) -> dict[str, Any]:
        """The publishing office from `organization`, as schema.org GovernmentOrganization."""
        org = self.config.organization or {}
        publisher: dict[str, Any] = {"@type": "GovernmentOrganization", "name": _text(org.get("name")) or self.config.title}
        if _text(org.get("logo")):
            publisher["logo"] = {"@type": "ImageObject", "url": self.abs_url(org["logo"])}
        if _text(org.get("url")):
            publisher["url"] = org["url"]
        if _text(org.get("email")):
            publisher["email"] = org["email"]
        if _text(org.get("phone")):
            publisher["telephone"] = org["phone"]
        if _text(org.get("address")):
            publisher["address"] = org["address"]
        return publisher

    def jsonld(self, release: Release) -> Markup:
        """schema.org NewsArticle (WebPage for plain pages), safe inside <script>."""
        data: dict[str, Any] = {
            "@context": "https://schema.org",
            "@type": "NewsArticle" if release.layout == "release" else "WebPage",
            "headline": release.title,
            "url": self.abs_url(release.url),
            "mainEntityOfPage": self.abs_url(release.url),
            "description": release.summary,
            "publisher": self.publisher_ld(),
            "inLanguage": self.config.language,
            "isAccessibleForFree": True,
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
            if release.number:
                data["identifier"] = release.number
            if release.words:
                data["wordCount"] = release.words
        if release.image:
            image: dict[str, Any] = {"@type": "ImageObject", "url": self.abs_url(release.image.url)}
            if release.image.caption:
                image["caption"] = release.image.caption
            if release.image.credit:
                image["creditText"] = release.image.credit
            data["image"] = [image]
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
            key = self.reuse.key("_card.html", release) if self.reuse is not None else None
            html = self.reuse.card(key) if key else None
            if html is None:
                html = self._template("_card.html").render(release=release)
                if key:
                    self.reuse.put_card(key, html)
            self._cards[slug] = Markup(html)
        return self._cards[slug]

    def helper_reads(self) -> dict[str, Any]:
        """Helpers that read the site, with the data they read (for page fingerprints)."""
        return {"person_url": tuple((p.slug, p.url) for p in self.site.people)}

    def mine(self, url: str) -> bool:
        """Whether this process renders the page at URL (several processes split a build)."""
        if self.wanted is not None:
            return self.wanted(url)
        k, n = self.share
        return n == 1 or zlib.crc32(url.encode("utf-8")) % n == k

    def share_links(self, release: Release) -> list[ShareLink]:
        """Plain share links (email, WhatsApp, Facebook, X); none without an absolute base_url."""
        if not self.config.absolute:
            return []
        link = self.abs_url(release.url)
        title = release.title
        q = lambda text: quote(text, safe="")  # noqa: E731 - a short local alias
        return [
            ShareLink("email", self.t("share_email"), f"mailto:?subject={q(title)}&body={q(title + chr(10) + link)}"),
            ShareLink("whatsapp", self.t("share_whatsapp"), f"https://wa.me/?text={q(title + ' ' + link)}"),
            ShareLink("facebook", self.t("share_facebook"), f"https://www.facebook.com/sharer/sharer.php?u={q(link)}"),
            ShareLink("x", self.t("share_x"), f"https://x.com/intent/tweet?text={q(title)}&url={q(link)}"),
        ]

    def related_items(self, release: Release) -> list[RelatedItem]:
        """The "Baca Juga" box: this site's releases with their dates, outside links with their host."""
        items = []
        for link in release.related:
            if link.external:
                items.append(RelatedItem(link.title, link.url, host=(urlsplit(link.url).hostname or "").removeprefix("www.")))
                continue
            target = self.site.releases.get(link.slug)
            items.append(RelatedItem(link.title, self.url(link.url), date=target.date if target else None, print_url=self.print_url(link.url)))
        return items

    def crumbs(self, *extra: tuple[str, str]) -> list[Crumb]:
        """Breadcrumbs from the home page down to (not including) the current page."""
        return [Crumb(self.t("nav_home"), self.url())] + [Crumb(label, self.url(path)) for label, path in extra]

    def release_crumbs(self, release: Release) -> list[Crumb]:
        if release.layout == "page" or release.date is None:
            return self.crumbs()
        year = release.date.astimezone(self.config.tz).year
        archive = next((y for y in self.site.years if y.year == year), None)
        return self.crumbs((self.t("archive_heading", year=year), archive.url)) if archive else self.crumbs()

    def _image_meta(self, release: Release | None = None) -> dict[str, Any]:
        """og:image and friends: the lead photo's 1200x630 social card, else the office's logo on one."""
        org_name = _text((self.config.organization or {}).get("name")) or self.config.title
        picture = self.site.pictures.get(release.image.src) if release is not None and release.image else None
        if picture is not None and picture.card is not None:
            return {"image": self.abs_url(picture.card.path), "image_alt": release.image.alt or release.title, "large_image": True, **_card_size(picture.card)}
        if release is not None and release.image:
            return {"image": self.abs_url(release.image.url), "image_alt": release.image.alt, "large_image": True}
        if self.site.logo_card is not None:
            # A logo is shown whole in the small "summary" card too: it sits in the card's middle square.
            return {"image": self.abs_url(self.site.logo_card.path), "image_alt": org_name, **_card_size(self.site.logo_card)}
        logo = (self.config.organization or {}).get("logo")
        if _text(logo):
            return {"image": self.abs_url(logo), "image_alt": org_name}
        return {}

    def site_description(self) -> str:
        org = self.config.organization or {}
        return _text(org.get("description")) or self.t("home_description", name=_text(org.get("name")) or self.config.title)

    def release_meta(self, release: Release) -> PageMeta:
        return PageMeta(
            title=f"{release.title} | {self.config.title}",
            description=release.summary,
            canonical=self.abs_url(release.url),
            og_title=release.title,
            og_type="article" if release.layout == "release" else "website",
            published=release.date if release.layout == "release" else None,
            modified=release.modified if release.layout == "release" else None,
            tags=tuple(name for name, _ in self.tag_links(release)),
            noindex=release.status != "published",
            **self._image_meta(release),
        )

    def list_meta(self, url: str, heading: str, description: str, page_number: int, page_total: int, home: bool = False) -> PageMeta:
        title = self.config.title if home else f"{heading} | {self.config.title}"
        if page_number > 1:
            title = f"{title} ({self.t('page_of', n=page_number, total=page_total)})"
        return PageMeta(title=title, description=description, canonical=self.abs_url(url), og_title=self.config.title if home else heading, **self._image_meta())

    def popular_tags(self, limit: int = 12):
        """The tags with the most releases, for the home page's side column."""
        return sorted(self.site.tags, key=lambda t: (-len(t.releases), t.slug))[:limit]

    # -- pages ---------------------------------------------------------------------

    def render(self) -> list[Page]:
        """Every page of the site (of this process's share), in a stable order."""
        return sorted(self.iter_pages(), key=lambda p: p.output_path)

    def iter_pages(self) -> Iterable[Page]:
        """The pages of this process's share, one at a time, as they are rendered."""
        for group in (self.release_pages(), self.list_pages(), self.index_pages(), self.alias_pages(), self.feeds(), (self.sitemap(), self.robots(), self.not_found(), self.search_page())):
            for page in group:
                # Page makers check mine() before the work; this catches any that do not.
                if page is not None and self.mine(page.url):
                    yield page

    def search_page(self) -> Page | None:
        if not self.config.search:
            return None
        strings = {k: v for k, v in self.strings.items() if k.startswith("search_")}
        meta = PageMeta(title=f"{self.t('search_title')} | {self.config.title}", noindex=True)
        return self._page("cari/", "search.html", years=self.site.years, meta=meta, search_strings=json.dumps(strings, ensure_ascii=False, sort_keys=True))

    def _template(self, name: str) -> jinja2.Template:
        # get_template() asks the disk whether the file changed, on every call.
        template = self._templates.get(name)
        if template is None:
            template = self._templates[name] = self.env.get_template(name)
        return template

    def _page(self, url: str, template: str, inputs_key: str | None = None, kept_key: str | None = None, **context: Any) -> Page | None:
        if not self.mine(url):
            return None
        key = None
        if self.reuse is not None:
            key = self.reuse.key(template, url, context)
            if kept_key is not None:
                # Kept by its inputs key, its context computed only to check that (reuse.verify).
                if key is None or kept_key.rpartition(";")[2] != key:
                    raise RuntimeError(f"page reuse: /{url} was kept by its inputs, but its context changed; an input is missing from Renderer.release_inputs or Renderer.list_inputs")
                self.reuse.kept_count += 1
                return Page(url, None, kept_key)
            if key is not None and inputs_key is not None:
                key = f"{inputs_key};{key}"
            if self.reuse.kept(url, key):
                return Page(url, None, key)
        html = self._template(template).render(page_url=url, **context)
        return Page(url, html.encode("utf-8"), key or "")

    def release_inputs(self, release: Release, template: str) -> str | None:
        """The inputs key of a release's page: a hash of everything its context is computed from.

        With it a build knows an unchanged release page without computing its context (body
        links, JSON-LD, share links, meta) and fingerprinting that: most of a one-edit build.
        It must name every piece of site data the release page's context reads besides the
        config and theme (in every fingerprint): the release, its neighbours, the targets of
        its [[links]], its tags, people, photo, year archive and "Baca Juga" dates. The test
        suite checks it against the full fingerprint (PageReuse.verify).
        """
        if self.reuse is None:
            return None
        site = self.site
        links = tuple(
            (ref, (target.slug, target.title, target.url) if (target := self._lookup(ref)) else None)
            for ref in _XREF_REF.findall(release.body_html)
        )
        tags = tuple((slug, self.tags[slug].name, self.tags[slug].url) if slug in self.tags else (slug,) for slug in release.tags)
        people = tuple((c.person, self.people[c.person].url) if c.person in self.people else (c.person,) for c in release.byline + release.editors)
        picture = site.pictures.get(release.image.src) if release.image else None
        dates = tuple((link.slug, site.releases[link.slug].date if link.slug in site.releases else None) for link in release.related if not link.external)
        if self._inputs_common is None:
            # What every release page reads alike, hashed once per build.
            years = tuple((y.year, y.url) for y in site.years)
            self._inputs_common = (self.reuse.key("inputs-common", site.logo_card, years, tuple(sorted(self.reuse.fingerprints.reads.items()))),)
        common = self._inputs_common[0]
        if common is None:
            return None
        # Strings, numbers, None and datetimes in tuples: their repr is exact, and much quicker
        # to make than the fingerprints' plain form.
        plain = repr((links, tags, people, dates))
        return self.reuse.key(
            "inputs", template, release.url, release, site.releases.get(release.prev), site.releases.get(release.next),
            picture, common, plain,
        )

    def release_pages(self) -> Iterable[Page]:
        for release in self.site.releases.values():
            if not self.mine(release.url):
                continue
            template = "page.html" if release.layout == "page" else "release.html"
            inputs_key = self.release_inputs(release, template)
            kept_key = self.reuse.kept_early(release.url, inputs_key) if inputs_key is not None else None
            if kept_key is not None and not self.reuse.verify:
                yield Page(release.url, None, kept_key)
                continue
            common = dict(
                release=release,
                body=self.body(release),
                banner=self.banner(release),
                noindex=release.status != "published",
                jsonld=self.jsonld(release),
                meta=self.release_meta(release),
                crumbs=self.release_crumbs(release),
            )
            if release.layout == "page":
                yield self._page(release.url, template, inputs_key, kept_key, **common)
                continue
            yield self._page(
                release.url,
                template,
                inputs_key,
                kept_key,
                groups=self.byline_groups(release),
                person_url=self.person_url,
                tags=self.tag_links(release),
                related=self.related_items(release),
                share=self.share_links(release),
                prev=self.site.releases.get(release.prev),
                next=self.site.releases.get(release.next),
                share_url=self.abs_url(release.url),
                **common,
            )

    def _paginate(self, base_url: str, slugs: tuple[str, ...], template: str, heading: str, description: str, **context: Any) -> Iterable[Page]:
        per = self.config.per_page
        total = max(1, -(-len(slugs) // per))
        context_key: tuple[str | None] | None = None  # the same for every page of the list: hashed once
        for n in range(1, total + 1):
            url = base_url if n == 1 else f"{base_url}page/{n}/"
            prev_url = "" if n == 1 else (base_url if n == 2 else f"{base_url}page/{n - 1}/")
            next_url = f"{base_url}page/{n + 1}/" if n < total else ""
            if not self.mine(url):
                continue
            shown = slugs[(n - 1) * per : n * per]
            inputs_key = kept_key = None
            if self.reuse is not None:
                if context_key is None:
                    context_key = (self.reuse.key("list-context", context),)
                inputs_key = self.list_inputs(url, template, shown, n, total, base_url, heading, description, len(slugs), context_key[0])
                kept_key = self.reuse.kept_early(url, inputs_key) if inputs_key is not None else None
                if kept_key is not None and not self.reuse.verify:
                    yield Page(url, None, kept_key)
                    continue
            cards = [self.card(slug) for slug in shown]
            meta = self.list_meta(url, heading, description, n, total, home=context.get("kind") == "home")
            yield self._page(
                url, template, inputs_key, kept_key, cards=cards, page_number=n, page_total=total, prev_url=prev_url, next_url=next_url,
                has_prev=n > 1, list_url=base_url, heading=heading, meta=meta, count=len(slugs), **context,
            )

    def list_inputs(self, url: str, template: str, shown: tuple[str, ...], n: int, total: int, base_url: str,
                    heading: str, description: str, count: int, context_key: str | None) -> str | None:
        """The inputs key of one page of a list (home, tag, person, year): what its context is computed from.

        The context of a list page is its releases' cards, its place in the list (number,
        total, neighbours' URLs follow from the list's URL), its meta tags and what the
        caller passes (heading, the tag, person or year, popular tags, crumbs...). A card is
        made from its release alone (see card()), the meta tags from the heading,
        description, position and the logo card; so this hashes the releases themselves
        (each hashed once per build, as card keys are) instead of their cards' HTML, and
        the list's logo card instead of the meta tags. CONTEXT_KEY is the hash of what the
        caller passes (the same for every page of a list). Like release_inputs, it is checked
        against the full fingerprint when PageReuse.verify is on.
        """
        releases = self.site.releases
        digests = self.reuse.digests([releases[slug] for slug in shown])
        if context_key is None or digests is None:
            return None
        return self.reuse.key(
            "list-inputs", template, url, n, total, base_url, heading, description, count,
            digests, self.site.logo_card, context_key,
        )

    def list_pages(self) -> Iterable[Page]:
        yield from self._paginate(
            "", self.site.order, "list.html", kind="home", heading=self.t("home_heading"), description=self.site_description(),
            feed_url="feed.xml", popular_tags=self.popular_tags(), crumbs=[],
        )
        for tag in self.site.tags:
            yield from self._paginate(
                tag.url, tag.releases, "list.html", kind="tag", heading=self.t("tag_heading", name=tag.name),
                description=self.t("tag_description", name=tag.name, site=self.config.title), tag=tag,
                feed_url=tag.url + "feed.xml", crumbs=self.crumbs((self.t("tag_index"), "tag/")),
            )
        for person in self.site.people:
            yield from self._paginate(
                person.url, person.releases, "list.html", kind="person", heading=person.name,
                description=self.t("person_description", name=person.name, site=self.config.title), person=person,
                person_credits=[self.credit_label(c) for c in person.credits], feed_url="",
                crumbs=self.crumbs((self.t("people_index"), "penulis/")),
            )
        for year in self.site.years:
            yield from self._paginate(
                year.url, year.releases, "list.html", kind="archive", heading=self.t("archive_heading", year=year.year),
                description=self.t("archive_description", year=year.year, site=self.config.title), year=year,
                feed_url="", crumbs=self.crumbs(),
            )

    def index_pages(self) -> Iterable[Page]:
        tags = sorted(self.site.tags, key=lambda t: (t.name.casefold(), t.slug))
        heading = self.t("tag_index")
        yield self._page("tag/", "tags.html", tags=tags, heading=heading, crumbs=self.crumbs(),
                         meta=self.list_meta("tag/", heading, self.t("tag_index_description", site=self.config.title), 1, 1))
        people = sorted(self.site.people, key=lambda p: (p.name.casefold(), p.slug))
        heading = self.t("people_index")
        yield self._page("penulis/", "people.html", people=people, years=self.site.years, heading=heading, crumbs=self.crumbs(),
                         meta=self.list_meta("penulis/", heading, self.t("people_index_description", site=self.config.title), 1, 1))

    def alias_pages(self) -> Iterable[Page]:
        for alias in self.site.aliases:
            target = self.site.releases[alias.target]
            yield self._page(alias.path, "redirect.html", target=target)

    def not_found(self) -> Page | None:
        if not self.mine("404.html"):
            return None
        latest = [self.site.releases[slug] for slug in self.site.order[:5]]
        meta = PageMeta(title=f"{self.t('not_found_title')} | {self.config.title}", noindex=True)
        return self._page("404.html", "404.html", latest=latest, meta=meta)

    # -- feeds, sitemap, robots ------------------------------------------------------

    def _feed_entries(self, slugs: Iterable[str]) -> list[Release]:
        if self._feed_order is None:
            self._feed_order = {r.slug: (-(r.modified or r.date).timestamp(), r.slug) for r in self.site.releases.values() if r.layout == "release"}
        order = self._feed_order
        # The newest few of possibly thousands: a partial sort, equal to sorted()[:limit].
        entries = heapq.nsmallest(self.config.feed_limit, (self.site.releases[s] for s in slugs), key=lambda r: order.get(r.slug) or (-(r.modified or r.date).timestamp(), r.slug))
        return entries

    def feeds(self) -> Iterable[Page]:
        # The site feed also carries withdrawn releases, so readers learn of the withdrawal.
        site_slugs = [r.slug for r in self.site.releases.values() if r.layout == "release"]
        if self.mine("feed.xml"):
            yield self.feed("feed.xml", self.config.title, "", self._feed_entries(site_slugs))
        withdrawn = [r for r in self.site.releases.values() if r.layout == "release" and r.withdrawn]
        for tag in self.site.tags:
            if self.mine(tag.url + "feed.xml"):
                slugs = list(tag.releases) + [r.slug for r in withdrawn if tag.slug in r.tags]
                yield self.feed(tag.url + "feed.xml", f"{self.config.title}: {tag.name}", tag.url, self._feed_entries(slugs))

    def _id(self, path: str) -> str:
        if self.config.absolute:
            return self.abs_url(path)
        return "urn:kabargen:" + (path or "home")

    def feed(self, url: str, title: str, page: str, entries: list[Release]) -> Page:
        bodies = {r.slug: self.body(r, absolute=True) for r in entries}
        key = None
        if self.reuse is not None:
            names = tuple((t.slug, t.name, t.url) for slug in sorted({s for r in entries for s in r.tags}) if (t := self.tags.get(slug)))
            key = self.reuse.key("feed", url, title, page, tuple(entries), bodies, names, self.helper_reads())
            if self.reuse.kept(url, key):
                return Page(url, None, key)
        updated = max((r.modified for r in entries), default=None)
        out = ['<?xml version="1.0" encoding="utf-8"?>']
        out.append(f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang={quoteattr(self.config.language)}>')
        out.append(f"  <title>{xml_text(title)}</title>")
        out.append(f"  <id>{xml_text(self._id(url))}</id>")
        out.append(f'  <link rel="self" type="application/atom+xml" href={quoteattr(self.abs_url(url))}/>')
        out.append(f'  <link rel="alternate" type="text/html" href={quoteattr(self.abs_url(page))}/>')
        out.append(f"  <updated>{(updated or datetime(1970, 1, 1, tzinfo=timezone.utc)).isoformat()}</updated>")
        out.append("  <generator>kabargen</generator>")
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
            content = self._template("_feed_content.html").render(release=r, body=bodies[r.slug])
            out.append(f'    <content type="html">{xml_text(content)}</content>')
            out.append("  </entry>")
        out.append("</feed>")
        return Page(url, ("\n".join(out) + "\n").encode("utf-8"), key or "")

    def sitemap(self) -> Page | None:
        if not self.mine("sitemap.xml"):
            return None
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

    def robots(self) -> Page | None:
        lines = ["User-agent: *"]
        lines.append("Disallow: /" if self.site.drafts else "Allow: /")
        lines.append(f"Sitemap: {self.abs_url('sitemap.xml')}")
        return Page("robots.txt", ("\n".join(lines) + "\n").encode("utf-8"))


def _card_size(card) -> dict[str, Any]:
    """og:image:width, height and type of a social card (a model Variant)."""
    return {"image_width": card.width, "image_height": card.height, "image_type": card.type}


def _text(value: Any) -> str:
    """A config value that should be text; anything else counts as missing."""
    return value.strip() if isinstance(value, str) else ""


def render_site(config: Config, site: Site, env: jinja2.Environment, theme: Theme) -> list[Page]:
    """Render every page of the site."""
    return Renderer(config, site, env, theme).render()
