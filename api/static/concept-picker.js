/* Concept pickers for the submission forms: progressive enhancement of <select multiple data-concept-picker>.

   Without JavaScript the plain multi-select works. With it, the select is visually hidden (it stays the
   form's source of truth, so the posted values are unchanged) and an ARIA 1.2 combobox takes its place:
   typing asks /api/suggest?scheme=… (every label — preferred, alternative, hidden — in Danish or
   English), each suggestion shows its place in the hierarchy; arrow keys move, Enter chooses, Escape
   closes; chosen concepts are removable chips; a polite live region says how many suggestions there are.
   UI strings come from data-picker-* attributes the server renders in the page's language. */
(function () {
  "use strict";

  var DELAY_MS = 120;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function optionLabel(option) {
    return option.textContent.replace(/^[\s\u2003]+/, "").trim();
  }

  function enhance(select, form) {
    var strings = form.dataset;
    var schemes = (select.dataset.conceptPicker || "").split(/\s+/).filter(Boolean);
    var lang = strings.lang || document.documentElement.lang || "da";
    var id = select.id + "-picker";
    var listId = id + "-list";
    var hintId = id + "-hint";
    var label = form.querySelector('label[for="' + select.id + '"]');
    var byValue = {};
    Array.prototype.forEach.call(select.options, function (o) { byValue[o.value] = o; });

    var wrapper = el("div", { "class": "concept-picker" });
    var chipsLabel = el("p", { "class": "picker-chips-label", id: id + "-chosen" }, strings.pickerChosen + ":");
    var chips = el("ul", { "class": "picker-chips", "aria-labelledby": id + "-chosen" });
    var box = el("div", { "class": "picker-box" });
    var input = el("input", {
      id: id, type: "text", role: "combobox", autocomplete: "off", spellcheck: "false",
      "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": listId,
      "aria-describedby": [hintId, select.getAttribute("aria-describedby") || ""].join(" ").trim()
    });
    if (select.getAttribute("aria-invalid")) { input.setAttribute("aria-invalid", "true"); }
    var hint = el("p", { "class": "help picker-hint", id: hintId }, strings.pickerHint);
    var list = el("ul", { id: listId, role: "listbox", "class": "picker-list" });
    list.hidden = true;
    var status = el("div", { role: "status", "aria-live": "polite", "class": "visually-hidden" });
    if (label) {
      label.setAttribute("for", id);
      label.id = label.id || id + "-label";
      list.setAttribute("aria-labelledby", label.id);
      input.setAttribute("placeholder", strings.pickerSearch);
    }
    box.appendChild(input);
    box.appendChild(list);
    wrapper.appendChild(chipsLabel);
    wrapper.appendChild(chips);
    wrapper.appendChild(box);
    wrapper.appendChild(hint);
    wrapper.appendChild(status);
    select.insertAdjacentElement("afterend", wrapper);
    // The select stays in the form (its values are what is posted) but out of sight and out of the tab order.
    select.classList.add("visually-hidden");
    select.setAttribute("tabindex", "-1");
    select.setAttribute("aria-hidden", "true");

    var suggestions = [];
    var active = -1;
    var timer = null;
    var asked = 0;

    function announce(text) {
      status.textContent = "";
      window.setTimeout(function () { status.textContent = text; }, 30);
    }

    function renderChips() {
      chips.textContent = "";
      Array.prototype.forEach.call(select.selectedOptions, function (option) {
        var name = optionLabel(option);
        var chip = el("li", { "class": "picker-chip", "data-value": option.value });
        chip.appendChild(el("span", {}, name));
        var remove = el("button", { type: "button", "class": "picker-remove", "aria-label": strings.pickerRemove + " " + name }, "×");
        remove.addEventListener("click", function () {
          option.selected = false;
          select.dispatchEvent(new Event("change", { bubbles: true }));
          announce(name + " " + strings.pickerRemoved);
          input.focus();
        });
        chip.appendChild(remove);
        chips.appendChild(chip);
      });
      chipsLabel.hidden = select.selectedOptions.length === 0;
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function setActive(index) {
      var items = list.querySelectorAll('[role="option"]');
      if (!items.length) { return; }
      active = (index + items.length) % items.length;
      Array.prototype.forEach.call(items, function (item, i) {
        item.setAttribute("aria-selected", i === active ? "true" : "false");
      });
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }

    function choose(index) {
      var found = suggestions[index];
      if (!found) { return; }
      var option = byValue[found.iri];
      option.selected = true;
      select.dispatchEvent(new Event("change", { bubbles: true }));
      input.value = "";
      close();
      announce(found.label + " " + strings.pickerAdded);
      input.focus();
    }

    function show(found) {
      suggestions = found.filter(function (s) {
        return s.type === "concept" && byValue[s.iri] && !byValue[s.iri].selected;
      });
      list.textContent = "";
      active = -1;
      input.removeAttribute("aria-activedescendant");
      suggestions.forEach(function (s, i) {
        var item = el("li", { id: id + "-option-" + i, role: "option", "aria-selected": "false", "class": "picker-option", "data-value": s.iri });
        item.appendChild(el("span", { "class": "picker-label" }, s.label));
        if (s.matched && s.matched.toLowerCase() !== s.label.toLowerCase()) {
          item.appendChild(el("span", { "class": "picker-matched" }, " (" + s.matched + ")"));
        }
        if (s.path && s.path.length > 1) {
          item.appendChild(el("span", { "class": "picker-path" }, s.path.join(" › ")));
        }
        item.addEventListener("mousedown", function (event) { event.preventDefault(); choose(i); });
        list.appendChild(item);
      });
      var open = input.value.trim() !== "";
      list.hidden = !open || suggestions.length === 0;
      input.setAttribute("aria-expanded", list.hidden ? "false" : "true");
      if (open) {
        announce(suggestions.length ? strings.pickerCount.replace("{n}", String(suggestions.length)) : strings.pickerNone);
      }
    }

    function ask() {
      var text = input.value.trim();
      if (!text) { show([]); return; }
      var params = new URLSearchParams({ q: text, lang: lang });
      schemes.forEach(function (s) { params.append("scheme", s); });
      var ticket = ++asked;
      fetch("/api/suggest?" + params.toString(), { headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
        .then(function (data) { if (ticket === asked) { show(data.suggestions || []); } })
        .catch(function () { if (ticket === asked) { show([]); } });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      var open = !list.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open && suggestions.length) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
        setActive(active + 1);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (open) { setActive(active < 0 ? -1 : active - 1); }
      } else if (event.key === "Enter") {
        if (open) {
          event.preventDefault(); // choosing must not submit the form
          choose(active >= 0 ? active : 0);
        }
      } else if (event.key === "Escape") {
        if (open) { event.preventDefault(); close(); } else { input.value = ""; }
      } else if (event.key === "Backspace" && input.value === "" && select.selectedOptions.length) {
        var last = select.selectedOptions[select.selectedOptions.length - 1];
        last.selected = false;
        select.dispatchEvent(new Event("change", { bubbles: true }));
        announce(optionLabel(last) + " " + strings.pickerRemoved);
      }
    });
    input.addEventListener("blur", function () { window.setTimeout(close, 100); });
    select.addEventListener("change", renderChips);
    renderChips();
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form.submission"), function (form) {
      Array.prototype.forEach.call(form.querySelectorAll("select[multiple][data-concept-picker]"), function (select) {
        enhance(select, form);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
