// The visit calendar: drag a planned visit onto another day to move it. The move is a
// POST to the visit's move URL (the same one its date form uses); on success the page
// reloads so that the grid shows what the server stored.
(function () {
  "use strict";
  const grid = document.getElementById("calendar");
  if (!grid) return;
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
  let dragged = null;

  // On a phone the grid is one long list of days: open it at today (when today is shown),
  // not at the first day of the month. A desktop grid shows the whole month at once.
  const today = grid.querySelector(".kam-cal-today");
  if (today && window.matchMedia("(max-width: 767.98px)").matches && !window.location.hash) {
    today.scrollIntoView({ block: "start" });
  }

  grid.addEventListener("dragstart", function (event) {
    const visit = event.target.closest(".kam-visit[draggable=true]");
    if (!visit) return;
    dragged = visit;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", visit.dataset.visit);
  });
  grid.addEventListener("dragover", function (event) {
    const day = event.target.closest(".kam-cal-day");
    if (!dragged || !day || day.dataset.working !== "1") return;
    event.preventDefault();
    day.classList.add("kam-cal-drop");
  });
  grid.addEventListener("dragleave", function (event) {
    const day = event.target.closest(".kam-cal-day");
    if (day) day.classList.remove("kam-cal-drop");
  });
  grid.addEventListener("drop", function (event) {
    const day = event.target.closest(".kam-cal-day");
    if (!dragged || !day) return;
    event.preventDefault();
    day.classList.remove("kam-cal-drop");
    const visit = dragged;
    dragged = null;
    const body = new URLSearchParams({ day: day.dataset.day, version: visit.dataset.version });
    fetch(visit.dataset.moveUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrf ? csrf.value : "", "Accept": "application/json" },
      body: body,
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.detail || grid.dataset.moveError);
        window.location.reload();
      });
    }).catch(function (error) {
      window.alert(error.message || grid.dataset.moveError);
    });
  });
})();
