/* Records index: a search box and tier / status filters over the static records table.
 *
 * No dependencies. Each row's text is read once; filtering only toggles `hidden` on rows, so it
 * stays fast with 10,000 records. The filter state is kept in the query string
 * (?q=...&tier=...&status=...) so a filtered view can be linked. Runs only on the page that has
 * the #sp-records-filter element.
 */
(function () {
  "use strict";

  function columnIndex(table, name) {
    var cells = table.tHead ? table.tHead.rows[0].cells : [];
    for (var i = 0; i < cells.length; i++) {
      if (cells[i].textContent.trim() === name) return i;
    }
    return -1;
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
    var tierCol = columnIndex(table, "Tier");
    var statusCol = columnIndex(table, "Status");

    var rows = table.tBodies[0].rows;
    var items = new Array(rows.length);
    for (var r = 0; r < rows.length; r++) {
      var cells = rows[r].cells;
      items[r] = {
        row: rows[r],
        text: rows[r].textContent.toLowerCase(),
        tier: tierCol >= 0 && cells[tierCol] ? cells[tierCol].textContent.trim() : "",
        status: statusCol >= 0 && cells[statusCol] ? cells[statusCol].textContent.trim() : ""
      };
    }

    function apply() {
      var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      var wantTier = tier.value;
      var wantStatus = status.value;
      var shown = 0;
      for (var i = 0; i < items.length; i++) {
        var item = items[i];
        var ok = (!wantTier || item.tier === wantTier) && (!wantStatus || item.status === wantStatus);
        for (var w = 0; ok && w < words.length; w++) {
          ok = item.text.indexOf(words[w]) !== -1;
        }
        if (item.row.hidden === ok) item.row.hidden = !ok;
        if (ok) shown++;
      }
      count.textContent = shown === items.length
        ? items.length + " records"
        : shown + " of " + items.length + " records";
      if (window.history && window.history.replaceState) {
        var params = new URLSearchParams();
        if (search.value) params.set("q", search.value);
        if (wantTier) params.set("tier", wantTier);
        if (wantStatus) params.set("status", wantStatus);
        var query = params.toString();
        window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : "") + window.location.hash);
      }
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
