// Choosing a language in the header applies it at once (the form's own button does the same without scripts).
for (const form of document.querySelectorAll("form.choose-language")) {
  form.querySelector("select").addEventListener("change", () => form.submit());
  form.querySelector("button").style.display = "none";
}
