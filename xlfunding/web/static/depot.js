// The drop zone, better with JavaScript: drag and drop, a progress bar, and the report shown in
// place. Without it the form posts as any form does and the server answers with the same page.
(function () {
  "use strict";
  var form = document.getElementById("envoi");
  if (!form || !window.XMLHttpRequest || !window.FormData || !window.DOMParser) { return; }
  var zone = document.getElementById("zone");
  var input = document.getElementById("fichier");
  var bar = document.getElementById("progression");
  var state = document.getElementById("etat");
  var button = document.getElementById("envoyer");
  document.body.classList.add("js");

  function show(text) { state.textContent = text; }

  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("over");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      send();
    }
  });
  input.addEventListener("change", function () {
    if (input.files.length) { show("Fichier choisi : " + input.files[0].name); }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send();
  });

  function send() {
    if (!input.files.length) { show("Choisissez d'abord un classeur .xlsx."); return; }
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    bar.hidden = false;
    bar.value = 0;
    button.disabled = true;
    show("Envoi de « " + input.files[0].name + " »…");
    request.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        bar.value = Math.round(100 * event.loaded / event.total);
        if (event.loaded === event.total) { show("Vérification en cours…"); }
      }
    });
    request.addEventListener("load", function () {
      button.disabled = false;
      bar.hidden = true;
      var page = new DOMParser().parseFromString(request.responseText, "text/html");
      var answer = page.getElementById("reponse") || page.getElementById("resultat");
      var here = document.getElementById("reponse");
      if (answer && here) {
        here.innerHTML = answer.id === "reponse" ? answer.innerHTML : answer.outerHTML;
        show("");
        var result = document.getElementById("resultat");
        if (result) { result.scrollIntoView(); }
      } else {
        show("Le serveur a répondu " + request.status + " : rechargez la page et recommencez.");
      }
      form.reset();
    });
    request.addEventListener("error", function () {
      button.disabled = false;
      bar.hidden = true;
      show("L'envoi a échoué (connexion interrompue) : recommencez.");
    });
    request.send(new FormData(form));
  }
}());
