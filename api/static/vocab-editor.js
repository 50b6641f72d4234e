/* Arbejdsmiljøviden — the vocabulary editor's concept fields (/editor/…): a small autocomplete.

   Progressive enhancement: without JavaScript the fields take codes or IRIs as typed. With it, each
   field marked data-ve-picker="/rest/v1/{vocid}/search" gets suggestions from the Skosmos-compatible
   search of its scheme (preferred, alternative and hidden labels, in the page's language): a one-line
   field (replacement, merge target) gets a native <datalist>; a one-per-line field (broader, related,
   collection members) gets a labelled search box with a datalist and an "Add" button that appends the
   chosen concept's code as a new line. Native datalists are keyboard- and screen-reader-accessible
   without custom ARIA. UI strings come from data-ve-picker-* attributes rendered in the page's
   language. Independent of concept-picker.js (the submission forms' picker). */
(function () {
  "use strict";

  var DELAY_MS = 150;
  var MAX_HITS = 12;
  var counter = 0;

  function searchUrl(base, term, lang) {
    var query = term.trim().replace(/\*+$/, "") + "*";
    // Labels in every language match (editors type Danish on an English page too); names come in the page's.
    return base + "?query=" + encodeURIComponent(query) + "&labellang=" + encodeURIComponent(lang) +
      "&maxhits=" + MAX_HITS + "&unique=true";
  }

  function codeOf(hit) {
    return hit.notation || hit.localname || hit.uri;
  }

  /* Fill the datalist with the concepts whose labels start with what was typed. */
  function suggester(base, list) {
    var lang = document.documentElement.lang || "da";
    var timer = null;
    var asked = "";
    return function (term) {
      window.clearTimeout(timer);
      if (term.trim().length < 2 || term === asked) return;
      timer = window.setTimeout(function () {
        asked = term;
        fetch(searchUrl(base, term, lang), { headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) {
            if (term !== asked) return; // a newer search is under way
            while (list.firstChild) list.removeChild(list.firstChild);
            (data.results || []).forEach(function (hit) {
              var option = document.createElement("option");
              option.value = codeOf(hit);
              option.label = (hit.prefLabel || hit.matchedPrefLabel || hit.uri) +
                (hit.altLabel ? " (" + hit.altLabel + ")" : "");
              option.textContent = option.label;
              list.appendChild(option);
            });
          })
          .catch(function () { /* suggestions are a convenience: typing a code still works */ });
      }, DELAY_MS);
    };
  }

  /* What to add for the text in the search box: the code of a suggestion chosen by code or by label. */
  function chosenCode(list, text) {
    var value = text.trim();
    var options = list.querySelectorAll("option");
    for (var i = 0; i < options.length; i++) {
      if (options[i].value === value || options[i].label === value) return options[i].value;
    }
    return value;
  }

  function enhanceLine(field, list) {
    field.setAttribute("list", list.id);
    field.setAttribute("autocomplete", "off");
    field.parentNode.insertBefore(list, field.nextSibling);
    var suggest = suggester(field.getAttribute("data-ve-picker"), list);
    field.addEventListener("input", function () { suggest(field.value); });
  }

  function enhanceLines(field, list) {
    var box = document.createElement("div");
    box.className = "ve-picker";
    var input = document.createElement("input");
    input.type = "search";
    input.id = list.id + "-search";
    input.setAttribute("list", list.id);
    input.setAttribute("autocomplete", "off");
    var label = document.createElement("label");
    label.htmlFor = input.id;
    label.textContent = field.getAttribute("data-ve-picker-label");
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = field.getAttribute("data-ve-picker-add");
    var fieldLabel = document.querySelector('label[for="' + field.id + '"]');
    if (fieldLabel) button.setAttribute("aria-label", button.textContent + ": " + fieldLabel.textContent.trim());
    box.appendChild(label);
    box.appendChild(input);
    box.appendChild(button);
    box.appendChild(list);
    field.parentNode.insertBefore(box, field.nextSibling);

    var suggest = suggester(field.getAttribute("data-ve-picker"), list);
    input.addEventListener("input", function () { suggest(input.value); });
    function add() {
      var code = chosenCode(list, input.value);
      if (!code) return;
      var lines = field.value.split("\n").map(function (l) { return l.trim(); }).filter(Boolean);
      if (lines.indexOf(code) === -1) lines.push(code);
      field.value = lines.join("\n");
      input.value = "";
      input.focus();
    }
    button.addEventListener("click", add);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { // add, instead of submitting the whole form
        event.preventDefault();
        add();
      }
    });
  }

  function start() {
    var fields = document.querySelectorAll("[data-ve-picker]");
    Array.prototype.forEach.call(fields, function (field) {
      var list = document.createElement("datalist");
      list.id = "ve-picker-" + (++counter);
      if (field.tagName === "TEXTAREA") enhanceLines(field, list);
      else enhanceLine(field, list);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
