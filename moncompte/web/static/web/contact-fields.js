/**
 * The e-mail or SMS choice of a contact form (includes/contact_fields.html): the field of the medium chosen is
 * announced as required (aria-required), the other one not. The server marks the preselected one; this keeps the
 * mark on the field the person picks. Without JavaScript, each field's hint says when it is required.
 *
 * Markup: <div data-contact-fields="medium"> … <input type="radio" name="medium" value="email"> …
 *         <input data-required-for="email"> <input data-required-for="sms"> </div>
 */

function wire(group) {
  const name = group.dataset.contactFields;
  const radios = Array.from(group.querySelectorAll(`input[type="radio"][name="${CSS.escape(name)}"]`));
  const fields = Array.from(group.querySelectorAll("[data-required-for]"));
  const update = () => {
    const chosen = radios.find((radio) => radio.checked)?.value;
    for (const field of fields) {
      if (field.dataset.requiredFor === chosen) field.setAttribute("aria-required", "true");
      else field.removeAttribute("aria-required");
    }
  };
  for (const radio of radios) radio.addEventListener("change", update);
  update();
}

function init() {
  document.querySelectorAll("[data-contact-fields]").forEach(wire);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
