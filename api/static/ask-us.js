// "Spørg centeret": remember the searches made in this browser session (sessionStorage, the last 10) and
// put them in the ask-us form's searches field, so editors see what the person already tried.
// Loaded on every page by base.html; without JavaScript the field is simply empty and can be typed in.
(function () {
  "use strict";
  var KEY = "amv.searches";
  var MAX = 10;

  function load() {
    try {
      var value = JSON.parse(window.sessionStorage.getItem(KEY) || "[]");
      return Array.isArray(value) ? value.filter(function (s) { return typeof s === "string"; }) : [];
    } catch (e) {
      return [];
    }
  }

  function save(list) {
    try {
      window.sessionStorage.setItem(KEY, JSON.stringify(list.slice(-MAX)));
    } catch (e) {
      // storage full or disabled: nothing to remember
    }
  }

  if (window.location.pathname === "/search") {
    var query = (new URLSearchParams(window.location.search).get("q") || "").trim().slice(0, 200);
    if (query) {
      var list = load().filter(function (s) { return s !== query; });
      list.push(query);
      save(list);
    }
  }

  var field = document.getElementById("ask-searches");
  if (field && !field.value.trim()) {
    field.value = load().join("\n");
  }
})();
