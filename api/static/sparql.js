/* Arbejdsmiljøviden — the SPARQL page's editor (/sparql).
 *
 * The page works without this script: a plain form sends the query to /sparql. When YASGUI
 * (api/static/vendor/yasgui, served from our own origin) has loaded, this script puts the editor
 * above the form, folds the form into a <details> (kept for anyone who prefers it), and lets the
 * example gallery open examples in editor tabs. YASGUI's network look-ups are turned off: prefixes
 * come from the page, and class/property suggestions (which would ask an outside service) are off.
 */
(function () {
  "use strict";

  function start() {
    var lib = window.Yasgui;
    var Yasgui = lib && typeof lib.default === "function" ? lib.default : lib;
    var holder = document.getElementById("sparql-yasgui");
    var form = document.getElementById("sparql-form");
    var configElement = document.getElementById("sparql-config");
    if (typeof Yasgui !== "function" || !holder || !form || !configElement) return;

    var config = JSON.parse(configElement.textContent);
    var textarea = form.querySelector("textarea[name=query]");
    var label = form.querySelector("label[for=sparql-query]");
    var endpoint = new URL(config.endpoint, window.location.href).href;
    var byslug = {};
    config.examples.forEach(function (example) { byslug[example.slug] = example; });

    var yasgui;
    try {
      holder.hidden = false;
      yasgui = new Yasgui(holder, {
        requestConfig: { endpoint: endpoint, method: "POST" },
        copyEndpointOnNewTab: true,
        endpointCatalogueOptions: {
          getData: function () { return [{ endpoint: endpoint }]; }
        },
        persistenceId: "arbejdsmiljoviden-sparql",
        populateFromUrl: false,
        autofocus: false,
        yasqe: {
          value: config.startingQuery,
          autocompleters: ["prefixes", "variables"],
          prefixCcApi: "data:application/json," + encodeURIComponent(JSON.stringify(config.prefixes)),
          // The editor grows with its query instead of scrolling inside the page (a scrolling box
          // without a focusable element in it cannot be scrolled by keyboard).
          resizeable: false,
          editorHeight: "auto",
          viewportMargin: Infinity
        },
        yasr: { prefixes: config.prefixes }
      });
    } catch (error) {
      holder.hidden = true;
      if (window.console) window.console.error("YASGUI could not start; the plain form still works.", error);
      return;
    }

    function openQuery(name, query) {
      var tab = yasgui.addTab(true, { name: name, yasqe: { value: query } }, { avoidDuplicateTabs: true });
      var yasqe = tab && tab.getYasqe ? tab.getYasqe() : null;
      if (yasqe && yasqe.getValue() !== query) yasqe.setValue(query);
      return tab;
    }

    // A query from the URL (an example or a query sent with the form) opens in its own tab.
    if (config.prefilled && textarea && textarea.value.trim()) {
      openQuery(config.tabName || (label ? label.textContent : "Query"), textarea.value);
    }

    // Keyboard: Esc leaves the editor (CodeMirror keeps Tab for indenting), and the editor's hidden
    // input carries the form's label and the key hints.
    var hint = document.createElement("p");
    hint.id = "sparql-editor-keys";
    hint.className = "muted";
    hint.textContent = form.getAttribute("data-editor-keys") || "";
    holder.parentNode.insertBefore(hint, holder);
    // YASGUI draws controls without names; name them whenever it draws (tabs, results, pagers).
    function nameControls() {
      holder.querySelectorAll(".CodeMirror textarea").forEach(function (input) {
        if (label) input.setAttribute("aria-label", label.textContent);
        input.setAttribute("aria-describedby", hint.id);
      });
      holder.querySelectorAll("input.autocomplete:not([aria-label])").forEach(function (input) {
        input.setAttribute("aria-label", "SPARQL endpoint");
      });
      holder.querySelectorAll("select.tableSizer:not([aria-label])").forEach(function (select) {
        select.setAttribute("aria-label", form.getAttribute("data-page-size") || "Rows per page");
      });
      holder.querySelectorAll(".yasr_btn").forEach(function (button) {
        if (button.classList.contains("disabled")) button.setAttribute("aria-disabled", "true");
        else button.removeAttribute("aria-disabled");
      });
      // The "+" (new tab) sits inside the tab list, where only tabs may be.
      holder.querySelectorAll(".tabsList .addTab:not([role])").forEach(function (button) {
        button.setAttribute("role", "tab");
        button.setAttribute("aria-selected", "false");
      });
    }
    nameControls();
    var pending = false;
    new MutationObserver(function () {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () { pending = false; nameControls(); });
    }).observe(holder, { childList: true, subtree: true });
    holder.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || !event.target.closest(".CodeMirror")) return;
      if (holder.querySelector(".CodeMirror-hints")) return; // Esc first closes the suggestions
      var button = holder.querySelector(".tabPanel.active .yasqe_queryButton");
      // After CodeMirror has finished with the key, which would take the focus back.
      if (button) window.setTimeout(function () { button.focus(); }, 0);
    }, true);

    // The plain form stays, folded away; opening it copies the editor's query into it.
    var details = document.createElement("details");
    details.className = "sparql-plain";
    var summary = document.createElement("summary");
    summary.textContent = form.getAttribute("data-plain-label") || "";
    details.appendChild(summary);
    form.parentNode.insertBefore(details, form);
    details.appendChild(form);
    details.addEventListener("toggle", function () {
      var tab = yasgui.getTab();
      if (details.open && tab && textarea) textarea.value = tab.getYasqe().getValue();
    });

    // Examples open in the editor instead of reloading the page; the address still names them.
    document.querySelectorAll("a[data-example]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var example = byslug[link.getAttribute("data-example")];
        if (!example || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        var tab = openQuery(example.title, example.query);
        if (window.history && window.history.replaceState) {
          window.history.replaceState(null, "", link.getAttribute("href"));
        }
        holder.scrollIntoView({ block: "start" });
        if (tab && tab.getYasqe) tab.getYasqe().focus();
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
