// OpenVINO Model Servers on the panel: the "Create ModelServer" form (the seed's flat
// parameters, the operator's defaults filled in) and the list (state, replicas, endpoints to
// call from a notebook, per-model readiness, last error; delete and scale for model admins).
// Everything goes through the REST API with panel.js's `api`, which sends the XSRF token;
// the server refuses writes without the write scope in any case.
"use strict";

(function () {
  const { api, el, enc, showAlert, createForm } = window.OVPanel;
  const section = document.getElementById("modelservers-section");
  const CAN_WRITE = section.dataset.canWrite === "true";
  const STATE = {
    Progressing: "text-bg-primary",
    Available: "text-bg-success",
    Degraded: "text-bg-danger",
    ScaledToZero: "text-bg-secondary",
  };
  const NUMBERS = ["replicas", "file_system_poll_wait_seconds", "grpc_port", "rest_port"];
  const TEXTS = ["image_name", "model_name", "model_path", "bucket_claim", "models_volume_claim",
    "config_configmap_name", "config_path", "model_version_policy", "plugin_config", "batch_size",
    "log_level", "aws_region", "https_proxy"];

  function describe(s) {
    const m = s.spec.models || {};
    const what = m.single_model_mode === false ? "config " + m.config_path : m.model_name + " \u2190 " + m.model_path;
    return el("td", {}, el("strong", {}, s.name), el("br"), el("code", { class: "small" }, what),
      el("br"), el("small", { class: "text-body-secondary" }, s.mode + (s.creator ? ", by " + s.creator : "")));
  }

  function state(s) {
    const cell = el("td", { class: "modelserver-state" },
      el("span", { class: "badge " + (STATE[s.state] || "text-bg-light"), "data-state": s.state }, s.state));
    if (s.last_error) {
      cell.append(el("div", { class: "alert alert-danger small py-1 px-2 mt-1 mb-0", "data-field": "last_error" },
        s.last_error));
    }
    return cell;
  }

  function endpoints(s) {
    const cell = el("td", { "data-field": "endpoints" });
    for (const [kind, url] of Object.entries(s.endpoints)) {
      cell.append(el("div", {}, el("small", {}, kind + " "), el("code", { "data-endpoint": kind }, url)));
    }
    return cell;
  }

  function models(s) {
    return el("td", { "data-field": "models" },
      ...s.models.map((m) => el("div", { "data-model": m.name, "data-ready": String(m.ready), title: m.message },
        el("code", {}, m.name), " ",
        el("span", { class: "small" }, m.ready ? "ready, version " + m.versions.join(", ") : "not ready"))));
  }

  function actions(s) {
    const cell = el("td", { class: "text-end text-nowrap" });
    if (!CAN_WRITE) return cell;
    const count = el("input", { type: "number", min: "0", step: "1", value: String(s.replicas.desired),
      class: "form-control form-control-sm d-inline-block w-auto", max: "99", "data-scale-input": s.name });
    const scale = el("button", { type: "button", class: "btn btn-sm btn-outline-primary ms-1", "data-scale": s.name },
      "Scale");
    scale.addEventListener("click", () => act("PUT", s.name + "/scale", { replicas: Number(count.value) }));
    const remove = el("button", { type: "button", class: "btn btn-sm btn-outline-danger ms-1", "data-delete": s.name },
      "Delete");
    remove.addEventListener("click", () => {
      if (window.confirm("Delete the ModelServer " + s.name + "? Its server stops.")) act("DELETE", s.name);
    });
    cell.append(count, scale, remove);
    return cell;
  }

  function row(s) {
    return el("tr", { "data-modelserver": s.name, "data-state": s.state },
      describe(s), state(s),
      el("td", { "data-field": "replicas" }, s.replicas.ready + " / " + s.replicas.desired),
      endpoints(s), models(s), actions(s));
  }

  async function load() {
    const result = await api("GET", "modelservers");
    const error = document.getElementById("modelserver-error");
    if (!result.ok) {
      showAlert(error, (result.data && result.data.message) || "Could not load the model servers");
      return;
    }
    const editing = document.activeElement && document.activeElement.dataset.scaleInput;
    if (editing) return; // do not replace the replicas field being typed in
    const rows = result.data.modelservers.map(row);
    document.querySelector("#modelservers tbody").replaceChildren(...rows);
    document.getElementById("no-modelservers").hidden = rows.length > 0;
  }

  async function act(method, path, body) {
    const result = await api(method, "modelservers/" + path.split("/").map(enc).join("/"), body);
    const error = document.getElementById("modelserver-error");
    const data = result.data || {};
    const details = data.problems ? ": " + data.problems.join("; ") : "";
    showAlert(error, result.ok ? "" : (data.message || "HTTP " + result.status) + details);
    await load();
  }

  function body(form) {
    const value = (name) => form.elements[name].value.trim();
    const spec = {};
    // empty fields take the operator's defaults, as in the API
    for (const name of TEXTS) if (value(name)) spec[name] = value(name);
    for (const name of NUMBERS) {
      if (value(name)) spec[name] = /^\d+$/.test(value(name)) ? Number(value(name)) : value(name);
    }
    const limits = {};
    for (const name of ["cpu", "memory"]) if (value(name)) limits[name] = value(name);
    if (Object.keys(limits).length) spec.resources = { limits };
    return { metadata: { name: value("name") }, spec };
  }

  createForm({
    form: "new-modelserver",
    toggle: "new-modelserver-toggle",
    button: "submit-modelserver",
    box: "modelserver-problems",
    path: "modelservers",
    body: body,
    title: "The ModelServer is invalid.",
    reload: load,
  });
  load();
  setInterval(load, 2000);
})();
