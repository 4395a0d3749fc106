// The pipeline board: drag a card to another stage column (SortableJS). The drop posts the
// same move as the card's own form (its "Move" button stays for keyboard users); when the
// move needs the qualifiers of the stage the card leaves answered, or a reason (a skipped
// stage), a dialog asks for them first. The server checks everything again and answers
// with a message, as for the form.
(function () {
  "use strict";
  var board = document.getElementById("opportunity-board");
  if (!board || typeof Sortable === "undefined") return;
  var order = document.getElementById("board-open-stages").dataset.stages.split(" ");
  var modalEl = document.getElementById("board-move-modal");
  var modalForm = document.getElementById("board-move-form");
  var modal = window.bootstrap ? new window.bootstrap.Modal(modalEl) : null;
  var pending = null; // {card, from, oldIndex, submitted}

  function stageName(stage) {
    var span = document.querySelector('#board-stage-names [data-stage="' + stage + '"]');
    return span ? span.textContent : stage;
  }

  function putBack(p) {
    var ref = p.from.children[p.oldIndex] || null;
    p.from.insertBefore(p.card, ref);
  }

  function plainMove(card, stage) {
    var form = card.querySelector("form.kam-board-move");
    form.querySelector('select[name="stage"]').value = stage;
    form.submit();
  }

  function askThenMove(card, from, oldIndex, stage, needsQualifiers, needsReason) {
    var here = card.dataset.stage;
    var form = card.querySelector("form.kam-board-move");
    modalForm.action = form.action;
    document.getElementById("board-move-stage").value = stage;
    document.getElementById("board-move-to").textContent =
      stageName(here) + " \u2192 " + stageName(stage);
    var box = document.getElementById("board-move-qualifiers");
    box.replaceChildren();
    if (needsQualifiers) {
      var tpl = document.getElementById("board-qualifiers-" + here);
      box.appendChild(tpl.content.cloneNode(true));
      var yes = (card.dataset.yes || "").split(" ");
      box.querySelectorAll("input[type=checkbox]").forEach(function (input) {
        input.checked = yes.indexOf(input.dataset.key) !== -1;
      });
    }
    var reason = document.getElementById("board-move-reason");
    reason.value = "";
    reason.required = needsReason;
    document.getElementById("board-move-reason-row").hidden = !needsReason;
    pending = { card: card, from: from, oldIndex: oldIndex, submitted: false };
    if (modal) {
      modal.show();
    } else {
      window.location.href = card.dataset.detail; // no dialog: the card's page has the form
    }
  }

  modalForm.addEventListener("submit", function () {
    if (pending) pending.submitted = true;
  });
  modalEl.addEventListener("shown.bs.modal", function () {
    var first = modalEl.querySelector("input[type=checkbox], #board-move-reason:not([hidden])");
    if (first) first.focus();
  });
  modalEl.addEventListener("hidden.bs.modal", function () {
    if (pending && !pending.submitted) putBack(pending);
    pending = null;
  });

  board.querySelectorAll(".kam-board-cards").forEach(function (list) {
    Sortable.create(list, {
      group: "opportunity-board",
      draggable: ".kam-board-draggable",
      filter: "form, a, input, select, button",
      preventOnFilter: false,
      ghostClass: "kam-board-ghost",
      chosenClass: "kam-board-chosen",
      sort: false,
      // Mouse and touch events rather than the browser's native drag and drop: the same
      // behaviour in every browser, and scrolling the page while dragging works.
      forceFallback: true,
      fallbackOnBody: true,
      onEnd: function (evt) {
        if (evt.from === evt.to) return;
        var card = evt.item;
        var here = card.dataset.stage;
        var stage = evt.to.dataset.stage;
        var from = order.indexOf(here);
        var to = order.indexOf(stage);
        var needsQualifiers = to > from && card.dataset.qualified !== "1";
        var needsReason = to > from + 1;
        if (needsQualifiers || needsReason) {
          askThenMove(card, evt.from, evt.oldIndex, stage, needsQualifiers, needsReason);
        } else {
          plainMove(card, stage);
        }
      },
    });
  });
})();
