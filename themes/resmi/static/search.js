// The search page of the resmi theme: asks the Pagefind index under /pagefind/ and lists
// the results (title, date, summary, the matched words). The state lives in the address
// (?q=...&urut=baru&tag=...&orang=...&tahun=...), so a search can be shared as a link.
const root = document.getElementById("pencarian");
const strings = JSON.parse(root.dataset.strings);
const form = root.querySelector("form");
const input = form.querySelector("input[name=q]");
const sort = form.querySelector("select[name=urut]");
const fieldset = form.querySelector(".search-filters");
const status = root.querySelector(".search-status");
const list = root.querySelector(".search-results");
const more = root.querySelector(".search-more");
const PER_PAGE = 10;
// Pagefind filter name -> address parameter and label.
const FILTERS = [["tag", "tag", strings.search_filter_tag], ["person", "orang", strings.search_filter_person], ["year", "tahun", strings.search_filter_year]];
const selects = {};
let pagefind = null;
let results = [];
let shown = 0;
let run = 0;

function say(key, values = {}) {
  return (strings[key] || key).replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

// Only the text and the <mark> elements of an excerpt are kept: nothing from the index becomes markup.
function excerptNodes(html) {
  const doc = new DOMParser().parseFromString(`<p>${html}</p>`, "text/html");
  const out = [];
  for (const node of doc.body.firstChild.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) out.push(document.createTextNode(node.textContent));
    else {
      const mark = document.createElement(node.nodeName === "MARK" ? "mark" : "span");
      mark.textContent = node.textContent;
      out.push(mark);
    }
  }
  return out;
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text) el.textContent = text;
  return el;
}

async function showMore() {
  const mine = run;
  const batch = results.slice(shown, shown + PER_PAGE);
  shown += batch.length;
  const data = await Promise.all(batch.map((r) => r.data()));
  if (mine !== run) return; // a newer search has replaced these results
  for (const item of data) {
    const li = element("li", "search-result");
    const h2 = element("h2", "search-result-title");
    const a = element("a", "", item.meta.title || item.url);
    a.href = item.url;
    h2.append(a);
    li.append(h2);
    if (item.meta.date) li.append(element("p", "card-meta", item.meta.date));
    if (item.meta.summary) li.append(element("p", "search-summary", item.meta.summary));
    const excerpt = element("p", "search-excerpt");
    excerpt.append(...excerptNodes(item.excerpt || ""));
    li.append(excerpt);
    list.append(li);
  }
  more.hidden = shown >= results.length;
}

function chosenFilters() {
  const filters = {};
  for (const [name] of FILTERS) {
    if (selects[name] && selects[name].value) filters[name] = selects[name].value;
  }
  return filters;
}

async function search(push) {
  const query = input.value.trim();
  const filters = chosenFilters();
  const params = new URLSearchParams();
  if (query) params.set("q", query);
  if (sort.value) params.set("urut", sort.value);
  for (const [name, param] of FILTERS) if (filters[name]) params.set(param, filters[name]);
  const address = `${location.pathname}${params.toString() ? "?" + params : ""}`;
  if (push) history.pushState(null, "", address);
  const mine = ++run;
  list.replaceChildren();
  more.hidden = true;
  if (!query && !Object.keys(filters).length) {
    status.textContent = say("search_prompt");
    return;
  }
  status.textContent = say("search_loading");
  const options = { filters };
  if (sort.value === "baru") options.sort = { date: "desc" };
  const found = await pagefind.search(query || null, options);
  if (mine !== run) return; // a newer search has started
  results = found.results;
  shown = 0;
  await showMore();
  if (mine !== run) return;
  // The count is announced once the first results are on the page.
  status.textContent = results.length ? say("search_results", { n: results.length, q: query || "…" }) : say("search_none", { q: query || "…" });
}

function fillForm() {
  const params = new URLSearchParams(location.search);
  input.value = params.get("q") || "";
  sort.value = params.get("urut") === "baru" ? "baru" : "";
  for (const [name, param] of FILTERS) {
    const want = params.get(param) || "";
    const select = selects[name];
    if (select) select.value = [...select.options].some((o) => o.value === want) ? want : "";
  }
}

async function start() {
  const index = root.dataset.index;
  try {
    pagefind = await import(`${index}pagefind.js`);
    await pagefind.options({ baseUrl: index.replace(/pagefind\/$/, ""), excerptLength: 24 });
    await pagefind.init();
    const available = await pagefind.filters();
    for (const [name, param, label] of FILTERS) {
      const values = Object.keys(available[name] || {}).sort((a, b) => (name === "year" ? b.localeCompare(a) : a.localeCompare(b, document.documentElement.lang)));
      if (!values.length) continue;
      const id = `cari-${param}`;
      const wrap = element("div", "search-filter");
      const lab = element("label", "", label);
      lab.htmlFor = id;
      const select = element("select");
      select.id = id;
      select.name = param;
      select.append(new Option(strings.search_filter_all, ""));
      for (const value of values) select.append(new Option(`${value} (${available[name][value]})`, value));
      select.addEventListener("change", () => search(true));
      selects[name] = select;
      wrap.append(lab, select);
      fieldset.append(wrap);
    }
    fieldset.hidden = !Object.keys(selects).length;
    form.querySelector(".search-options").hidden = false;
  } catch (err) {
    status.textContent = say("search_failed");
    throw err;
  }
  fillForm();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    search(true);
  });
  sort.addEventListener("change", () => search(true));
  more.addEventListener("click", showMore);
  window.addEventListener("popstate", () => {
    fillForm();
    search(false);
  });
  await search(false);
}

start();
