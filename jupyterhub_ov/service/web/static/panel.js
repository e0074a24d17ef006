// The panel's shell: what every feature's script shares (window.OVPanel): the API's URL, the
// XSRF token, whether the user may write, requests through the REST API, and small helpers
// for elements, ages, alerts and a form's problems. Requests carry the XSRF token because
// the browser is authenticated by its session cookie.
"use strict";

(function () {
  const root = document.getElementById("panel");
  const API = root.dataset.api;
  const PREFIX = root.dataset.prefix;
  const XSRF = root.dataset.xsrf;
  const CAN_WRITE = root.dataset.canWrite === "true";

  // every id or name put into a URL is one encoded path segment (the server only routes
  // well-formed ones; a "/" or "%2F" in a name must not reach another path)
  const enc = encodeURIComponent;

  // a script's request: the service answers 403 instead of sending it to log in
  async function api(method, path, body) {
    const headers = { "X-XSRFToken": XSRF, Accept: "application/json", "X-Requested-With": "XMLHttpRequest" };
    const options = { method, headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(API + path, options);
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      data = { message: text };
    }
    return { status: response.status, ok: response.ok, data };
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }


  function age(iso) {
    const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (seconds < 60) return Math.round(seconds) + " s";
    if (seconds < 3600) return Math.round(seconds / 60) + " min";
    if (seconds < 86400) return Math.round(seconds / 3600) + " h";
    return Math.round(seconds / 86400) + " d";
  }

  function showAlert(node, text) {
    node.textContent = text;
    node.hidden = !text;
  }

  // The API's problems next to the fields they name (a field's data-problem: a text the
  // problem contains, or starts with when `prefix`), the others in `box` under `title`.
  function showProblems(form, box, { title, message, problems, prefix }) {
    for (const field of form.querySelectorAll(".is-invalid")) field.classList.remove("is-invalid");
    for (const feedback of form.querySelectorAll(".invalid-feedback")) feedback.textContent = "";
    const names = (problem, key) => (prefix ? problem.startsWith(key) : problem.includes(key));
    const unplaced = [];
    for (const problem of problems) {
      const field = [...form.querySelectorAll("[data-problem]")].find(
        (f) => !f.closest("[hidden]") && names(problem, f.dataset.problem)
      );
      if (field) {
        field.classList.add("is-invalid");
        const feedback = field.parentElement.querySelector(".invalid-feedback");
        feedback.textContent += (feedback.textContent ? " " : "") + problem;
      } else {
        unplaced.push(problem);
      }
    }
    box.replaceChildren();
    if (message || unplaced.length) {
      box.append(el("strong", {}, message || title));
      if (unplaced.length) box.append(el("ul", { class: "mb-0" }, ...unplaced.map((p) => el("li", {}, p))));
    }
    box.hidden = !box.childNodes.length;
  }


  // A feature's "create" form: its toggle shows and hides it; a submit POSTs body(form) to
  // path, shows every problem the API names (beside its field) and, once created, hides the
  // form and reloads the feature's list.
  function createForm({ form, toggle, button, box, path, body, title, reload }) {
    const element = document.getElementById(form);
    if (!element) return;
    document.getElementById(toggle).addEventListener("click", () => {
      element.hidden = !element.hidden;
    });
    element.addEventListener("submit", async (event) => {
      event.preventDefault();
      const submitButton = document.getElementById(button);
      submitButton.disabled = true;
      try {
        const result = await api("POST", path, body(element));
        const data = result.data || {};
        showProblems(element, document.getElementById(box), {
          title,
          message: result.ok || data.problems ? "" : data.message || "HTTP " + result.status,
          problems: result.ok ? [] : data.problems || [],
          prefix: true,
        });
        if (result.ok) {
          element.reset();
          element.hidden = true;
          await reload();
        }
      } finally {
        submitButton.disabled = false;
      }
    });
  }

  window.OVPanel = {
    root, API, PREFIX, XSRF, CAN_WRITE, api, el, age, enc, showAlert, showProblems, createForm,
  };
})();
