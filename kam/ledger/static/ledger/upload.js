// The upload form: send the file with XMLHttpRequest to show how many bytes have gone up.
// Without JavaScript (or without XHR upload events) the form posts normally.
(function () {
  "use strict";
  if (!window.XMLHttpRequest || !("upload" in new XMLHttpRequest()) || !window.FormData) return;

  function mb(bytes) {
    return (bytes / 1048576).toFixed(1);
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.id !== "upload-form") return;
    event.preventDefault();
    const box = form.querySelector("#upload-progress");
    const bar = form.querySelector("#upload-progress-bar");
    const text = form.querySelector("#upload-progress-text");
    const failed = form.querySelector("#upload-error");
    const button = form.querySelector("#upload-button");
    const xhr = new XMLHttpRequest();

    function reset() {
      button.disabled = false;
      box.hidden = true;
    }

    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      const percent = Math.floor((100 * e.loaded) / e.total);
      bar.value = percent;
      bar.textContent = percent + " %";
      text.textContent = mb(e.loaded) + " / " + mb(e.total) + " MB · " + percent + " %";
    });
    xhr.upload.addEventListener("load", function () {
      bar.value = 100;
      text.textContent = form.dataset.processing || "";
    });
    xhr.addEventListener("load", function () {
      if (xhr.status === 200) {
        try {
          const answer = JSON.parse(xhr.responseText);
          if (answer.location) {
            window.location.assign(answer.location);
            return;
          }
        } catch (err) {
          /* not JSON: fall through to the error message */
        }
      }
      if (xhr.status === 400 && xhr.responseText) {
        // The form again, with the reasons next to the fields.
        const card = document.getElementById("upload-card");
        card.innerHTML = xhr.responseText;
        const errors = card.querySelector("#form-errors");
        if (errors) errors.scrollIntoView({ block: "nearest" });
        return;
      }
      reset();
      failed.hidden = false;
    });
    xhr.addEventListener("error", function () {
      reset();
      failed.hidden = false;
    });
    button.disabled = true;
    failed.hidden = true;
    box.hidden = false;
    bar.value = 0;
    text.textContent = "";
    xhr.send(new FormData(form));
  });
})();
