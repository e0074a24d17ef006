// OpenVINO notebook images on the builds page: the "Create Notebook" form and the list of
// Notebooks (state, warning, commit, build, tags, "Check now"). Everything goes through the
// REST API with panel.js's `api`, which sends the XSRF token.
"use strict";

(function () {
  const { PREFIX, CAN_WRITE, api, el, age, enc, showAlert, createForm } = window.OVPanel;
  const STATE = {
    Pending: "text-bg-secondary",
    Building: "text-bg-primary",
    Ready: "text-bg-success",
    Failed: "text-bg-danger",
  };

  function stateBadge(state) {
    return el("span", { class: "badge " + (STATE[state] || "text-bg-light"), "data-state": state }, state);
  }

  function when(iso) {
    return iso ? el("span", { title: iso }, age(iso) + " ago") : "";
  }

  function describe(n) {
    const spec = n.spec;
    const checks = spec.auto_update_image
      ? "auto-update, checked every " + spec.reconcile_duration_multiplier + " min"
      : "no auto-update";
    return el(
      "td",
      {},
      el("strong", {}, n.name),
      el("br"),
      el("code", { class: "small" }, spec.git_uri + " @ " + spec.git_ref),
      el("br"),
      el("small", { class: "text-body-secondary" }, checks)
    );
  }

  function state(status) {
    const cell = el("td", { class: "notebook-state" }, stateBadge(status.state));
    if (status.message) cell.append(el("div", { class: "small", "data-field": "message" }, status.message));
    if (status.warning) {
      cell.append(
        el("div", { class: "alert alert-warning small py-1 px-2 mt-1 mb-0", role: "status", "data-field": "warning" },
          "\u26a0 " + status.warning)
      );
    }
    return cell;
  }

  function actions(n) {
    const status = n.status;
    const cell = el("td", { class: "text-end text-nowrap" });
    if (status.build_id) {
      const label = status.state === "Building" ? "Running build" : "Last build";
      cell.append(el("a", { href: PREFIX + "builds/" + enc(status.build_id), class: "btn btn-sm btn-outline-secondary",
        "data-field": "build" }, label));
    }
    if (CAN_WRITE) {
      const button = el("button", { type: "button", class: "btn btn-sm btn-outline-primary ms-1",
        "data-check": n.name }, "Check now");
      if (status.state === "Building") {
        button.disabled = true;
        button.title = "A build is running";
      }
      button.addEventListener("click", () => check(n.name, button));
      cell.append(button);
    }
    return cell;
  }

  function row(n) {
    const status = n.status;
    return el(
      "tr",
      { "data-notebook": n.name, "data-state": status.state },
      describe(n),
      state(status),
      el("td", {}, status.commit ? el("code", { title: status.commit }, status.commit.slice(0, 12)) : ""),
      el("td", { "data-field": "build_date" }, when(status.build_date)),
      el("td", { "data-field": "tags" }, ...status.tags.map((t) => el("code", { class: "me-1" }, t))),
      actions(n)
    );
  }

  async function loadNotebooks() {
    const result = await api("GET", "notebooks");
    const error = document.getElementById("notebook-error");
    if (!result.ok) {
      showAlert(error, (result.data && result.data.message) || "Could not load the notebooks");
      return;
    }
    const rows = result.data.notebooks.map(row);
    document.querySelector("#notebooks tbody").replaceChildren(...rows);
    document.getElementById("no-notebooks").hidden = rows.length > 0;
  }

  async function check(name, button) {
    button.disabled = true;
    const result = await api("POST", "notebooks/" + enc(name) + "/check");
    const error = document.getElementById("notebook-error");
    showAlert(error, result.ok ? "" : (result.data && result.data.message) || "HTTP " + result.status);
    await loadNotebooks();
  }

  function notebookBody(form) {
    const value = (name) => form.elements[name].value.trim();
    const spec = { auto_update_image: form.elements.auto_update_image.checked };
    // empty fields take the operator's defaults, as in the API
    if (value("git_uri")) spec.git_uri = value("git_uri");
    if (value("git_ref")) spec.git_ref = value("git_ref");
    const minutes = value("reconcile_duration_multiplier");
    if (minutes) spec.reconcile_duration_multiplier = /^\d+$/.test(minutes) ? Number(minutes) : minutes;
    return { metadata: { name: value("name") }, spec };
  }

  createForm({
    form: "new-notebook",
    toggle: "new-notebook-toggle",
    button: "submit-notebook",
    box: "notebook-problems",
    path: "notebooks",
    body: notebookBody,
    title: "The notebook request is invalid.",
    reload: loadNotebooks,
  });
  loadNotebooks();
  setInterval(loadNotebooks, 3000);
})();
