/* Records index: a search box and tier / status filters over every record.
 *
 * No dependencies. The static page holds one slice of the records (newest first); as soon as a
 * filter or a search word is set, the script loads records/index.json once and shows the matches
 * among all records (the newest RESULT_LIMIT of them) in place of the slice. Rows are built with
 * DOM methods, so record text is only ever text. If index.json cannot be loaded (e.g. a page opened
 * from file://), the filters apply to this page's rows instead. The filter state is kept in the query
 * string (?q=...&tier=...&status=...) so a filtered view can be linked. Runs only on pages that have
 * the #sp-records-filter element. Titles are shown without bidi controls and inside <bdi>, so no title
 * can reorder the cells' text or make "evil" read "live" (index.json rows come without them already).
 * Status and verdict are filtered by their tokens (UNDER_CONCERN) and shown by their labels ("Under
 * concern"): a static row shows the label, read back through the status filter's options, and an
 * index.json row gives the token beside its label (the rows built here keep it in <data value>).
 */
(function () {
  "use strict";

  var RESULT_LIMIT = 200;
  var RECORD_ID = /^SRCH:[0-9A-F]{8}$/;
  // Unicode bidi controls: embeddings and overrides, isolates, LRM, RLM, ALM.
  var BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;

  var NOT_RECORDED = "Not recorded";

  function plain(value) {
    return value === null || value === undefined ? "" : String(value).replace(BIDI_CONTROLS, "");
  }

  /* The label of a token: the one index.json gives, else its words ("ESCALATE_TO_OWNER" -> "Escalate to owner"). */
  function label(token, given) {
    if (given) return plain(given);
    if (token === null || token === undefined || token === "") return NOT_RECORDED;
    var words = String(token).replace(/_/g, " ").toLowerCase();
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  /* A score as the static rows show it (Python's str): 5.0, not 5. */
  function scoreText(score) {
    if (score === null || score === undefined || score === "") return NOT_RECORDED;
    return typeof score === "number" && Number.isInteger(score) ? score.toFixed(1) : String(score);
  }

  /* The token a static row's cell shows the label of: the value of the select's option with that text
     (the status filter lists every status as value TOKEN, text Label), else the value of a <data> in it. */
  function token(cell, select) {
    if (!cell) return "";
    var data = cell.querySelector("data[value]");
    if (data) return data.getAttribute("value");
    var text = cell.textContent.trim();
    for (var i = 0; select && i < select.options.length; i++) {
      if (select.options[i].value && select.options[i].text === text) return select.options[i].value;
    }
    return text;
  }

  function columnIndex(table, name) {
    var cells = table.tHead ? table.tHead.rows[0].cells : [];
    for (var i = 0; i < cells.length; i++) {
      if (cells[i].textContent.trim() === name) return i;
    }
    return -1;
  }

  function words(text) {
    return text.toLowerCase().split(/\s+/).filter(Boolean);
  }

  function matches(item, query) {
    if (query.tier && item.tier !== query.tier) return false;
    if (query.status && item.status !== query.status) return false;
    for (var w = 0; w < query.words.length; w++) {
      if (item.text.indexOf(query.words[w]) === -1) return false;
    }
    return true;
  }

  /* One index.json record as the item the filter reads (same text as a static row shows). */
  function itemFromRecord(record) {
    var date = String(record.recorded || "").slice(0, 10);
    var cells = [record.record_id, plain(record.title), record.level, record.tier,
                 label(record.status, record.status_label), label(record.verdict, record.verdict_label),
                 scoreText(record.review_score), date];
    return {
      record: record,
      tier: String(record.tier || ""),
      status: String(record.status || ""),
      text: cells.map(function (c) { return c === null || c === undefined ? "" : String(c); }).join(" ").toLowerCase()
    };
  }

  function cell(row, text) {
    var td = row.insertCell(-1);
    td.textContent = text === null || text === undefined ? "" : String(text);
    return td;
  }

  function renderRow(tbody, item, recordsUrl) {
    var record = item.record;
    var row = tbody.insertRow(-1);
    var id = String(record.record_id || "");
    var first = row.insertCell(-1);
    if (RECORD_ID.test(id)) {
      var link = document.createElement("a");
      link.href = recordsUrl + id.replace(":", "-") + "/";
      link.textContent = id;
      first.appendChild(link);
    } else {
      first.textContent = id;
    }
    var title = document.createElement("bdi");
    title.textContent = plain(record.title);
    row.insertCell(-1).appendChild(title);
    cell(row, record.level);
    cell(row, record.tier);
    var status = row.insertCell(-1);
    var statusData = document.createElement("data");
    statusData.value = item.status;
    statusData.textContent = label(item.status, record.status_label);
    if (item.status === "CURRENT") {
      status.appendChild(statusData);
    } else {
      var strong = document.createElement("strong");
      strong.appendChild(statusData);
      status.appendChild(strong);
    }
    var verdict = row.insertCell(-1);
    if (record.verdict) {
      var verdictData = document.createElement("data");
      verdictData.value = String(record.verdict);
      verdictData.textContent = label(record.verdict, record.verdict_label);
      verdict.appendChild(verdictData);
    } else {
      verdict.textContent = NOT_RECORDED;
    }
    cell(row, scoreText(record.review_score));
    cell(row, String(record.recorded || "").slice(0, 10));
  }

  function setup() {
    var filter = document.getElementById("sp-records-filter");
    if (!filter || filter.getAttribute("data-ready")) return;
    var table = null;
    var tables = document.querySelectorAll("article table");
    for (var t = 0; t < tables.length; t++) {
      if (filter.compareDocumentPosition(tables[t]) & Node.DOCUMENT_POSITION_FOLLOWING) {
        table = tables[t];
        break;
      }
    }
    if (!table || !table.tBodies.length) return;
    filter.setAttribute("data-ready", "1");

    var search = document.getElementById("sp-records-search");
    var tier = document.getElementById("sp-records-tier");
    var status = document.getElementById("sp-records-status");
    var count = document.getElementById("sp-records-count");
    var total = parseInt(filter.getAttribute("data-total"), 10);
    var indexUrl = filter.getAttribute("data-index");
    var recordsUrl = filter.getAttribute("data-records") || "";
    var tierCol = columnIndex(table, "Tier");
    var statusCol = columnIndex(table, "Status");

    var pageBody = table.tBodies[0];
    var results = table.createTBody();
    results.hidden = true;

    var rows = pageBody.rows;
    var pageItems = new Array(rows.length);
    for (var r = 0; r < rows.length; r++) {
      var cells = rows[r].cells;
      pageItems[r] = {
        row: rows[r],
        text: rows[r].textContent.toLowerCase(),
        tier: tierCol >= 0 && cells[tierCol] ? cells[tierCol].textContent.trim() : "",
        status: statusCol >= 0 ? token(cells[statusCol], status) : ""
      };
    }
    if (isNaN(total)) total = pageItems.length;

    var allItems = null;  // every record, once index.json is loaded
    var loading = null;
    function loadAll() {
      if (!loading) {
        loading = fetch(indexUrl, { credentials: "same-origin" })
          .then(function (response) {
            if (!response.ok) throw new Error("HTTP " + response.status);
            return response.json();
          })
          .then(function (index) {
            allItems = (index.records || []).map(itemFromRecord);
            return allItems;
          });
      }
      return loading;
    }

    function showPage(query) {
      var shown = 0;
      for (var i = 0; i < pageItems.length; i++) {
        var ok = !query || matches(pageItems[i], query);
        if (pageItems[i].row.hidden === ok) pageItems[i].row.hidden = !ok;
        if (ok) shown++;
      }
      results.hidden = true;
      pageBody.hidden = false;
      return shown;
    }

    function showAll(query) {
      var found = allItems.filter(function (item) { return matches(item, query); });
      var body = document.createElement("tbody");  // built off-document, swapped in once
      for (var i = 0; i < found.length && i < RESULT_LIMIT; i++) renderRow(body, found[i], recordsUrl);
      table.replaceChild(body, results);
      results = body;
      pageBody.hidden = true;
      return found.length;
    }

    var generation = 0;
    function apply() {
      var query = { words: words(search.value), tier: tier.value, status: status.value };
      var active = query.words.length || query.tier || query.status;
      var mine = ++generation;
      remember();
      if (!active) {
        showPage(null);
        count.textContent = total + " records";
        return;
      }
      loadAll().then(function () {
        if (mine !== generation) return;
        var found = showAll(query);
        count.textContent = found + " of " + total + " records" +
          (found > RESULT_LIMIT ? " (showing the newest " + RESULT_LIMIT + ")" : "");
      }, function () {
        if (mine !== generation) return;
        var shown = showPage(query);
        count.textContent = shown + " of " + pageItems.length + " records on this page";
      });
    }

    function remember() {
      if (!(window.history && window.history.replaceState)) return;
      var params = new URLSearchParams();
      if (search.value) params.set("q", search.value);
      if (tier.value) params.set("tier", tier.value);
      if (status.value) params.set("status", status.value);
      var query = params.toString();
      window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : "") + window.location.hash);
    }

    var initial = new URLSearchParams(window.location.search);
    search.value = initial.get("q") || "";
    tier.value = initial.get("tier") || "";
    status.value = initial.get("status") || "";
    if (tier.selectedIndex < 0) tier.value = "";
    if (status.selectedIndex < 0) status.value = "";

    var timer = null;
    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(apply, 80);
    });
    tier.addEventListener("change", apply);
    status.addEventListener("change", apply);
    apply();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
