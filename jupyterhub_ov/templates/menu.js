(() => {
  "use strict";
  // The image menu: the catalog arrives once as JSON (#ov-data); this draws at most LIMIT
  // images matching the search, each with one radio (name="image", "key:tag") per tag. The
  // choice survives a search that hides its row (a hidden field carries it then). Radios
  // are one native group: Tab reaches it, arrow keys move, the search box's Enter or Down
  // arrow jumps to the list instead of submitting.
  const $ = (id) => document.getElementById(id);
  const data = JSON.parse($("ov-data").textContent);
  const images = data.im; // [key, name, description, url, accelerators, preferred tag, tags]
  const software = data.sw; // [[software text, dependencies text]]
  const search = $("ov-search"), list = $("ov-list"), count = $("ov-count");
  const other = $("ov-other"), otherBox = $("ov-other-box"), otherValue = $("ov-other-value");
  const kept = $("ov-kept");
  const haystack = images.map((im) =>
    [im[0], im[1], im[2], im[4], ...im[6].map((t) => (software[t[1]] || []).join(" "))]
      .join(" ").toLowerCase());
  let chosen = kept.dataset.chosen; // "key:tag", "unlisted-choice" or ""
  const savedTag = { key: chosen.slice(0, chosen.lastIndexOf(":")), tag: chosen.slice(chosen.lastIndexOf(":") + 1) };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function softwareText(index) {
    const sw = software[index] || ["", ""];
    return [sw[0], sw[1]].filter(Boolean).join(" · ");
  }

  function radio(im, tagName, label) {
    const value = im[0] + ":" + tagName;
    const box = el("label");
    const input = el("input");
    input.type = "radio"; input.name = "image"; input.value = value;
    input.checked = value === chosen;
    input.addEventListener("change", () => choose(value));
    box.append(input, " " + im[0].split("/").pop() + ":" + tagName);
    for (const extra of label) box.append(" ", extra);
    return box;
  }

  function row(index) {
    const im = images[index];
    const card = el("div", "ov-image");
    card.dataset.image = im[0];
    const title = el("h3", "", im[1]);
    if (im[3]) {
      const link = el("a", "small", "source");
      link.href = im[3]; link.target = "_blank"; link.rel = "noopener";
      title.append(" ", link);
    }
    card.append(title);
    if (im[2]) card.append(el("p", "ov-desc", im[2]));
    if (im[4]) card.append(el("p", "small", "Recommended accelerators: " + im[4]));
    const tags = el("div", "ov-tags");
    const lists = new Set(im[6].map((t) => t[1]));
    for (const t of im[6]) {
      const extras = [];
      if (t[2] & 1) extras.push(el("span", "badge bg-success", "recommended"));
      if (t[3]) extras.push(el("small", "", "build " + t[3]));
      if (lists.size > 1 && softwareText(t[1])) extras.push(el("small", "ov-software", softwareText(t[1])));
      tags.append(radio(im, t[0], extras));
    }
    if (savedTag.key === im[0] && !im[6].some((t) => t[0] === savedTag.tag)) {
      // the saved tag is outdated: still offered to who chose it, not to anyone else
      tags.append(radio(im, savedTag.tag, [el("span", "badge bg-secondary", "outdated")]));
    }
    card.append(tags);
    if (lists.size === 1 && softwareText(im[6][0][1])) {
      card.append(el("p", "ov-software", softwareText(im[6][0][1])));
    }
    return card;
  }

  function choose(value) {
    chosen = value;
    if (otherValue) {
      const on = value === "unlisted-choice";
      otherBox.hidden = !on;
      otherValue.required = on;
      if (on) otherValue.setAttribute("name", "image--unlisted-choice");
      else otherValue.removeAttribute("name");
    }
    syncKept();
  }

  function syncKept() {
    // the chosen radio is not drawn (searched away): a hidden field submits the choice
    const drawn = [...list.querySelectorAll('input[name="image"]')].some((r) => r.checked);
    const needed = !drawn && chosen && chosen !== "unlisted-choice";
    if (!needed) { kept.replaceChildren(); return; }
    const field = kept.firstChild || kept.appendChild(el("input"));
    field.type = "hidden"; field.name = "image"; field.value = chosen;
  }

  function draw() {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    const matches = [];
    for (let i = 0; i < images.length; i++) {
      if (words.every((w) => haystack[i].includes(w))) matches.push(i);
    }
    const shown = matches.slice(0, data.limit);
    list.replaceChildren(...shown.map(row));
    count.textContent = matches.length > shown.length
      ? `${matches.length} images match; the first ${shown.length} are shown: refine the search.`
      : `${matches.length} of ${images.length} images.`;
    syncKept();
  }

  search.addEventListener("input", draw);
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === "ArrowDown") {
      event.preventDefault(); // Enter in the search box must not start a server
      const target = list.querySelector("input:checked") || list.querySelector("input");
      if (target) target.focus();
    }
  });
  if (other) other.addEventListener("change", () => { choose("unlisted-choice"); otherValue.focus(); });
  if (otherValue && otherValue.value) { other.checked = true; choose("unlisted-choice"); }
  draw();
})();
