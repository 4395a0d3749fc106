// The queue's "select all" box for bulk assignment.
(function () {
  "use strict";
  const all = document.getElementById("select-all");
  if (!all) return;
  all.addEventListener("change", function () {
    document.querySelectorAll(".kam-pick").forEach(function (box) { box.checked = all.checked; });
  });
})();
