// The builds feature of the panel: the list with its "New build" form, and one build
// followed live. Everything goes through the REST API with the shell's `api` (panel.js).
"use strict";

(function () {
  const { root, API, PREFIX, XSRF, CAN_WRITE, api, el, age, enc, showAlert, showProblems } = window.OVPanel;
  const TERMINAL = new Set(["Success", "Failure"]);
  const BADGE = {
    Preparing: "text-bg-secondary",
    Resolving: "text-bg-info",
    Building: "text-bg-primary",
    Importing: "text-bg-primary",
    Validating: "text-bg-warning",
    Success: "text-bg-success",
    Failure: "text-bg-danger",
  };

  function badge(phase) {
    return el("span", { class: "badge " + (BADGE[phase] || "text-bg-light"), "data-phase": phase }, phase);
  }

  // -- the list and the form ---------------------------------------------------------------

  async function loadList() {
    const result = await api("GET", "builds?limit=100");
    const error = document.getElementById("list-error");
    if (!result.ok) {
      showAlert(error, (result.data && result.data.message) || "Could not load the builds");
      return;
    }
    showAlert(error, "");
    const rows = result.data.builds.map((b) =>
      el(
        "tr",
        { "data-build": b.id },
        el("td", {}, el("strong", {}, b.displayName), el("br"), el("code", { class: "small" }, b.image || b.name)),
        el("td", {}, b.buildType),
        el("td", {}, badge(b.phase)),
        el("td", {}, b.creator),
        el("td", { title: b.created }, age(b.created)),
        el(
          "td",
          { class: "text-end" },
          el("a", { href: PREFIX + "builds/" + enc(b.id), class: "btn btn-sm btn-outline-secondary" }, "Details"),
          " ",
          el("a", { href: API + "builds/" + enc(b.id) + "/log", class: "btn btn-sm btn-link" }, "Log")
        )
      )
    );
    document.querySelector("#builds tbody").replaceChildren(...rows);
    document.getElementById("no-builds").hidden = rows.length > 0;
  }

  function selectedType(form) {
    return form.querySelector('input[name="buildType"]:checked').value;
  }

  function showFieldsFor(form) {
    const type = selectedType(form);
    for (const group of form.querySelectorAll("[data-for]")) {
      group.hidden = !group.dataset.for.split(" ").includes(type);
    }
  }

  function requestBody(form) {
    const value = (name) => form.elements[name].value.trim();
    const type = selectedType(form);
    const annotations = {
      "opendatahub.io/notebook-image-name": value("displayName"),
      "opendatahub.io/notebook-image-desc": value("description"),
    };
    const spec = { buildType: type };
    if (type === "ImportImage") spec.fromImage = value("fromImage");
    if (type === "PackageList") {
      spec.packageVersions = value("packageVersions").split("\n").map((l) => l.trim()).filter(Boolean);
      if (value("pythonVersion")) spec.runtimeEnvironment = { pythonVersion: value("pythonVersion") };
    }
    if (type === "GitRepository") {
      spec.repositoryUrl = value("repositoryUrl");
      if (value("gitRef")) spec.gitRef = value("gitRef");
    }
    if (type !== "ImportImage" && value("builderImage")) spec.builderImage = value("builderImage");
    return { metadata: { name: value("name"), annotations }, spec };
  }

  async function submitBuild(event) {
    event.preventDefault();
    const form = event.target;
    const button = document.getElementById("submit-build");
    button.disabled = true;
    try {
      const result = await api("POST", "builds", requestBody(form));
      if (result.ok) {
        window.location.href = PREFIX + "builds/" + enc(result.data.id);
        return;
      }
      const data = result.data || {};
      showProblems(form, document.getElementById("form-problems"), {
        title: "The build request is invalid.",
        message: data.problems ? "" : data.message || "HTTP " + result.status,
        problems: data.problems || [],
      });
    } finally {
      button.disabled = false;
    }
  }

  function buildsPage() {
    const form = document.getElementById("new-build");
    if (form) {
      document.getElementById("new-build-toggle").addEventListener("click", () => {
        form.hidden = !form.hidden;
      });
      form.addEventListener("change", () => showFieldsFor(form));
      form.addEventListener("submit", submitBuild);
      showFieldsFor(form);
    }
    loadList();
    setInterval(loadList, 3000);
  }

  // -- one build, live --------------------------------------------------------------------

  function fact(list, name, value) {
    if (value) list.append(el("dt", { class: "col-sm-2" }, name), el("dd", { class: "col-sm-10" }, value));
  }

  async function loadBuild(id) {
    const result = await api("GET", "builds/" + enc(id));
    if (!result.ok) {
      showAlert(document.getElementById("build-error"), result.data.message);
      return null;
    }
    const b = result.data;
    document.getElementById("build-title").textContent = b.displayName + " (" + b.buildType + ")";
    const facts = document.getElementById("facts");
    facts.replaceChildren();
    fact(facts, "Image", b.image || b.name);
    fact(facts, "Creator", b.creator);
    fact(facts, "Created", b.created);
    fact(facts, "Python", b.pythonVersion);
    fact(facts, "Packages", (b.packages || []).map((p) => p.name + " " + p.version).join(", "));
    fact(facts, "Retry of", b.retryOf);
    fact(facts, "For resource", b.resource);
    setPhase(b.phase, b.message);
    return b;
  }

  function setPhase(phase, message) {
    const node = document.getElementById("phase");
    node.className = "badge fs-6 " + (BADGE[phase] || "");
    node.textContent = phase;
    node.dataset.phase = phase;
    document.getElementById("message").textContent = message || "";
    if (!CAN_WRITE) return;
    document.getElementById("cancel").hidden = TERMINAL.has(phase);
    document.getElementById("retry").hidden = !TERMINAL.has(phase);
    document.getElementById("delete").hidden = !TERMINAL.has(phase);
  }

  function appendLog(line) {
    const log = document.getElementById("log");
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.append(line + "\n");
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  function follow(id) {
    const source = new EventSource(API + "builds/" + enc(id) + "/events?_xsrf=" + encodeURIComponent(XSRF));
    source.addEventListener("log", (event) => appendLog(JSON.parse(event.data).line));
    source.addEventListener("phase", (event) => {
      const data = JSON.parse(event.data);
      document.getElementById("transitions").append(
        el("li", { class: "list-group-item", "data-phase": data.phase }, badge(data.phase), " ", data.message, " ",
          el("small", { class: "text-body-secondary" }, data.at))
      );
      setPhase(data.phase, data.message);
      if (TERMINAL.has(data.phase)) {
        source.close();
        loadBuild(id);
      }
    });
  }

  async function act(method, path, then) {
    const result = await api(method, path);
    if (!result.ok) {
      showAlert(document.getElementById("build-error"), (result.data && result.data.message) || "HTTP " + result.status);
      return;
    }
    then(result.data);
  }

  async function buildPage() {
    const id = root.dataset.build;
    const build = await loadBuild(id);
    if (!build) return;
    follow(id);
    if (!CAN_WRITE) return;
    document.getElementById("cancel").addEventListener("click", () => act("POST", "builds/" + enc(id) + "/cancel", () => {}));
    document.getElementById("retry").addEventListener("click", () =>
      act("POST", "builds/" + enc(id) + "/retry", (b) => (window.location.href = PREFIX + "builds/" + enc(b.id)))
    );
    document.getElementById("delete").addEventListener("click", () => {
      if (window.confirm("Delete this build's record and log?")) {
        act("DELETE", "builds/" + enc(id), () => (window.location.href = PREFIX));
      }
    });
  }

  if (document.getElementById("builds-section")) buildsPage();
  if (root.dataset.page === "build") buildPage();
})();
