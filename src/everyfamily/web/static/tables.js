/* Sortable data tables: each column header becomes a button; pressing it sorts the rows by
   that column (numbers by their value, text alphabetically), pressing again reverses. No
   framework; the order is announced through aria-sort (WAI-ARIA Authoring Practices,
   "Sortable Table" pattern). Without script the table stays in the server's order. */
(function () {
  "use strict";
  function key(cell) {
    if (!cell) { return ""; }
    var s = cell.getAttribute("data-sort");
    if (s !== null && s !== "" && !isNaN(parseFloat(s))) { return parseFloat(s); }
    return cell.textContent.trim().toLowerCase();
  }
  function compare(a, b) {
    if (typeof a === "number" && typeof b === "number") { return a - b; }
    if (typeof a === "number") { return -1; }
    if (typeof b === "number") { return 1; }
    return a < b ? -1 : a > b ? 1 : 0;
  }
  function sortBy(table, index, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    if (rows.length < 2) { return; }
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    rows.sort(function (r1, r2) {
      var c = compare(key(r1.cells[index]), key(r2.cells[index]));
      return ascending ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }
  function enhance(table) {
    if (!table.tHead || table.dataset.sortable === "on") { return; }
    table.dataset.sortable = "on";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, index, th); });
    });
  }
  document.querySelectorAll("table.sortable").forEach(enhance);
})();
