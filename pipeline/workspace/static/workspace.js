/* pipeline workspace: keyboard coding, the split selection count, the quote selection (kept in localStorage across
   themes) and its CSV / Markdown export. No framework, nothing fetched. */
(function () {
  "use strict";
  var body = document.body;
  var runId = body.getAttribute("data-run-id") || "run";

  // ---- forms that ask first (merge)
  Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  // ---- split: how many segments are selected
  var splitBoxes = Array.prototype.slice.call(document.querySelectorAll("input.split-select"));
  var splitCount = document.getElementById("split-count");
  function updateSplit() {
    if (!splitCount) { return; }
    var n = splitBoxes.filter(function (b) { return b.checked; }).length;
    splitCount.textContent = n + " selected";
    document.getElementById("split-button").disabled = n === 0;
  }
  splitBoxes.forEach(function (b) { b.addEventListener("change", updateSplit); });
  updateSplit();

  // ---- coding: type a code's number (several digits allowed), Enter saves and moves on
  var codeForm = document.getElementById("code-form");
  if (codeForm) {
    var typed = "", timer = null, shown = document.getElementById("typed");
    var radios = Array.prototype.slice.call(codeForm.querySelectorAll("input[type=radio]"));
    var choose = function (digits) {
      var hit = radios.filter(function (r) { return r.getAttribute("data-number") === digits; })[0];
      if (hit) { hit.checked = true; hit.focus(); }
      shown.textContent = hit ? "code " + digits : "no code " + digits;
    };
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (/^[0-9]$/.test(event.key)) {
        event.preventDefault();
        typed = (typed + event.key).replace(/^0+(?=\d)/, "");
        clearTimeout(timer);
        timer = setTimeout(function () { typed = ""; }, 900);
        choose(typed);
      } else if (event.key === "Enter") {
        event.preventDefault();
        if (radios.some(function (r) { return r.checked; })) { codeForm.requestSubmit(); }
        else { shown.textContent = "type a code's number first"; }
      }
    });
  }

  // ---- quotes: the selection lives in localStorage, keyed by run, so it survives pages and visits
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input.quote-select"));
  var counter = document.getElementById("selected-count");
  var storeKey = "pipeline-quotes:" + runId;
  function load() {
    try { return JSON.parse(window.localStorage.getItem(storeKey) || "{}"); } catch (e) { return {}; }
  }
  function save(selection) { window.localStorage.setItem(storeKey, JSON.stringify(selection)); }
  function quoteOf(box) {
    var flags = box.getAttribute("data-flags") || "";
    return {theme_id: box.getAttribute("data-theme-id"), theme: box.getAttribute("data-theme"),
            text: box.getAttribute("data-text"), respondent_id: box.getAttribute("data-respondent"),
            source: box.getAttribute("data-source"), ratings: box.getAttribute("data-ratings") || "",
            flags: flags ? flags.split("; ") : []};
  }
  function cell(value) {
    var text = String(value == null ? "" : value);
    // a spreadsheet runs a cell that starts with = + - @ (or a tab/CR) as a formula: an answer must stay text
    if (/^[=+\-@\t\r]/.test(text)) { text = "'" + text; }
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }
  function toCsv(rows) {
    var columns = ["theme_id", "theme", "text", "respondent_id", "source", "flagged", "flags", "ratings"];
    var lines = [columns.join(",")];
    rows.forEach(function (q) {
      var record = Object.assign({}, q, {flagged: q.flags.length ? "yes" : "no", flags: q.flags.join("; ")});
      lines.push(columns.map(function (c) { return cell(record[c]); }).join(","));
    });
    return "\ufeff" + lines.join("\r\n") + "\r\n";
  }
  function mdSafe(text) {  // no raw HTML can come out of a Markdown renderer: < > & as entities, one line
    return String(text).replace(/\s+/g, " ").trim().replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  function toMarkdown(rows) {
    var out = ["# Selected quotes", "", "Run " + mdSafe(runId), ""], theme = null;
    rows.forEach(function (q) {
      if (q.theme !== theme) { theme = q.theme; out.push("## " + mdSafe(theme), ""); }
      var by = "respondent " + q.respondent_id + ", " + q.source;
      if (q.flags.length) { by += " · ⚠ FLAGGED, may identify the respondent: " + q.flags.join(", "); }
      out.push("> " + mdSafe(q.text), ">", "> — " + mdSafe(by), "");
    });
    return out.join("\n");
  }
  function selectedRows() {
    var selection = load();
    return Object.keys(selection).sort().map(function (k) { return selection[k]; })
      .sort(function (a, b) { return Number(a.theme_id) - Number(b.theme_id); });
  }
  function update() {
    if (!counter) { return; }
    var n = Object.keys(load()).length;
    counter.textContent = n + (n === 1 ? " quote" : " quotes") + " selected";
    ["export-csv", "export-md", "clear-selection"].forEach(function (id) {
      document.getElementById(id).disabled = n === 0;
    });
  }
  function download(name, type, text) {
    var url = URL.createObjectURL(new Blob([text], {type: type}));
    var link = document.createElement("a");
    link.href = url; link.download = name; link.hidden = true;
    document.body.appendChild(link); link.click();
    setTimeout(function () { URL.revokeObjectURL(url); link.remove(); }, 1000);
  }
  window.pipelineWorkspace = {toCsv: toCsv, toMarkdown: toMarkdown, selected: selectedRows};
  if (counter) {
    var current = load();
    boxes.forEach(function (b) {
      b.checked = Object.prototype.hasOwnProperty.call(current, b.getAttribute("data-key"));
      b.addEventListener("change", function () {
        var selection = load();
        if (b.checked) { selection[b.getAttribute("data-key")] = quoteOf(b); }
        else { delete selection[b.getAttribute("data-key")]; }
        save(selection); update();
      });
    });
    document.getElementById("export-csv").addEventListener("click", function () {
      download("quotes-" + runId + ".csv", "text/csv;charset=utf-8", toCsv(selectedRows()));
    });
    document.getElementById("export-md").addEventListener("click", function () {
      download("quotes-" + runId + ".md", "text/markdown;charset=utf-8", toMarkdown(selectedRows()));
    });
    document.getElementById("clear-selection").addEventListener("click", function () {
      save({}); boxes.forEach(function (b) { b.checked = false; }); update();
    });
    update();
  }
})();
