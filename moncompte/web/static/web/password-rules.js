/**
 * Live feedback on password rules, mirroring moncompte/accounts/validators.py.
 *
 * Load it as a module (<script type="module" src="…/password-rules.js">); it needs no inline script and no
 * dependency, and initialises itself once the document is parsed.
 *
 * Markup:
 *
 *   <input type="password" id="id_password1" aria-describedby="id_password1-rules"
 *          data-password-rules="{{ rules_json }}">           (rules: password_rules_for_client(), as JSON)
 *   <ul id="id_password1-rules"
 *       data-label-valid="respecté" data-label-invalid="non respecté">        (optional, translated labels)
 *     <li class="fr-message fr-message--info" data-rule="length">Entre 8 et 24 caractères</li>
 *     <li class="fr-message fr-message--info" data-rule="lower">Une lettre minuscule</li>
 *     <li class="fr-message fr-message--info" data-rule="upper">Une lettre majuscule</li>
 *     <li class="fr-message fr-message--info" data-rule="digit">Un chiffre</li>
 *     <li class="fr-message fr-message--info" data-rule="entropy">Assez difficile à deviner</li>
 *   </ul>
 *   <p id="id_password1-rules-status" class="fr-sr-only" aria-live="polite"></p>   (optional, created if absent)
 *   <div hidden data-password-toggle-box>          (hidden without JavaScript; shown once the button is wired)
 *     <button type="button" data-password-toggle="id_password1" aria-pressed="false">Afficher</button>
 *   </div>
 *
 * Each <li data-rule> gets fr-message--valid when its rule is met and fr-message--info otherwise. When the <li>
 * carries DSFR's data-fr-valid attribute, the DSFR stylesheet already voices the state; otherwise a visually hidden
 * suffix is added. The live region summarises what is still missing, once the person pauses typing.
 * Rule names: length, lower, upper, digit, special, entropy.
 *
 * Only these rules, computed from the password alone, are mirrored here. The ones that look the password up in a
 * list (common and breached passwords, words tied to the service, the person's own data) are the server's: their
 * lists stay there (the breached set alone is 240 kB), and the form says what they refuse once it is sent.
 */

const CNIL_CLASS_SIZES = { lower: 26, upper: 26, digit: 10, special: 33 };
const STATUS_DELAY_MS = 900;

const DEFAULT_TEXTS = {
  valid: "respecté",
  invalid: "non respecté",
  allValid: "Le mot de passe respecte toutes les règles.",
  missing: "Règles non respectées : ",
};

/** Split a string into Unicode code points, as Python's len() counts them. */
function codePoints(text) {
  return Array.from(text);
}

/** CNIL class of one character: lower, upper, digit or special (accented letters and space are special). */
function cnilClass(character) {
  if (character >= "a" && character <= "z") return "lower";
  if (character >= "A" && character <= "Z") return "upper";
  if (character >= "0" && character <= "9") return "digit";
  return "special";
}

/** Entropy in bits per CNIL deliberation 2022-100: length × log2(sum of the sizes of the classes present). */
export function passwordEntropyBits(password, classSizes = CNIL_CLASS_SIZES) {
  const characters = codePoints(password);
  if (characters.length === 0) return 0;
  const classes = new Set(characters.map(cnilClass));
  let size = 0;
  for (const name of classes) size += classSizes[name];
  return characters.length * Math.log2(size);
}

const LOWERCASE = /\p{Lowercase}/u;
const UPPERCASE = /\p{Uppercase}/u;
const DIGIT = /[0-9]/;
// Neither a letter nor a digit (Python: not str.isalnum()).
const SPECIAL = /[^\p{L}\p{N}]/u;

/**
 * Evaluate every rule for the password. Returns {rule: true|false}, or null for a rule the server does not enforce.
 */
export function evaluatePassword(password, rules) {
  const length = codePoints(password).length;
  const required = new Set(rules.required_classes || []);
  const classRule = (name, pattern) => (required.has(name) ? pattern.test(password) : null);
  let lengthOk = null;
  if (rules.min_length != null || rules.max_length != null) {
    lengthOk =
      (rules.min_length == null || length >= rules.min_length) &&
      (rules.max_length == null || length <= rules.max_length);
  }
  return {
    length: lengthOk,
    lower: classRule("lower", LOWERCASE),
    upper: classRule("upper", UPPERCASE),
    digit: classRule("digit", DIGIT),
    special: classRule("special", SPECIAL),
    entropy:
      rules.min_bits == null
        ? null
        : passwordEntropyBits(password, rules.class_sizes || CNIL_CLASS_SIZES) >= rules.min_bits,
  };
}

function parseRules(input) {
  try {
    const rules = JSON.parse(input.dataset.passwordRules || "{}");
    return rules && typeof rules === "object" ? rules : {};
  } catch {
    return {};
  }
}

function findRuleList(input) {
  const byId = input.id ? document.getElementById(`${input.id}-rules`) : null;
  if (byId) return byId;
  // Fallback: a rule list in the same form group as the input.
  const group = input.closest(".fr-input-group, .fr-password, .fr-fieldset__element") || input.parentElement;
  const item = group ? group.querySelector("li[data-rule]") : null;
  return item ? item.closest("ul, ol") : null;
}

/** Translate with Django's JavaScript catalog when the page loads it; the sources are already French. */
function translate(text) {
  return typeof globalThis.gettext === "function" ? globalThis.gettext(text) : text;
}

function textsFor(list) {
  const data = list.dataset;
  return {
    valid: data.labelValid || translate(DEFAULT_TEXTS.valid),
    invalid: data.labelInvalid || translate(DEFAULT_TEXTS.invalid),
    allValid: data.labelAllValid || translate(DEFAULT_TEXTS.allValid),
    missing: data.labelMissing || translate(DEFAULT_TEXTS.missing),
  };
}

/** The live region: #{list id}-status, or a [data-password-rules-status] next to the list, else a new one. */
function findOrCreateStatus(list) {
  let status = list.id ? document.getElementById(`${list.id}-status`) : null;
  if (!status && list.parentElement) {
    status = list.parentElement.querySelector("[data-password-rules-status]");
  }
  if (!status) {
    status = document.createElement("p");
    if (list.id) status.id = `${list.id}-status`;
    status.className = "fr-sr-only";
    status.dataset.passwordRulesStatus = "";
    list.insertAdjacentElement("afterend", status);
  }
  status.setAttribute("aria-live", "polite");
  status.setAttribute("aria-atomic", "true");
  return status;
}

/** Text of a rule item, without the visually hidden state suffix this module adds. */
function ruleLabel(item) {
  const clone = item.cloneNode(true);
  clone.querySelectorAll("[data-password-rule-state]").forEach((node) => node.remove());
  return clone.textContent.replace(/\s+/g, " ").trim();
}

function markItem(item, valid, texts) {
  item.classList.toggle("fr-message--valid", valid);
  item.classList.toggle("fr-message--info", !valid);
  item.dataset.ruleState = valid ? "valid" : "invalid";
  if (item.hasAttribute("data-fr-valid")) return; // DSFR's stylesheet voices the state.
  let state = item.querySelector("[data-password-rule-state]");
  if (!state) {
    state = document.createElement("span");
    state.className = "fr-sr-only";
    state.dataset.passwordRuleState = "";
    item.append(state);
  }
  state.textContent = ` (${valid ? texts.valid : texts.invalid})`;
}

/** Wire one password input to its rule list. Returns a function that re-evaluates, or null without a list. */
export function attachRules(input) {
  const list = findRuleList(input);
  if (!list || input.dataset.passwordRulesBound === "true") return null;
  input.dataset.passwordRulesBound = "true";
  const rules = parseRules(input);
  const texts = textsFor(list);
  const status = findOrCreateStatus(list);
  let timer = null;
  let lastAnnouncement = "";

  const announce = (items) => {
    const missing = items.filter((item) => item.dataset.ruleState === "invalid").map(ruleLabel);
    const message = missing.length === 0 ? texts.allValid : texts.missing + missing.join(" ; ");
    if (message !== lastAnnouncement) {
      lastAnnouncement = message;
      status.textContent = message;
    }
  };

  const update = ({ announceNow = false } = {}) => {
    const results = evaluatePassword(input.value, rules);
    const items = Array.from(list.querySelectorAll("li[data-rule]"));
    for (const item of items) {
      const result = results[item.dataset.rule];
      // A rule the server does not enforce counts as met, so the person is never blocked by it.
      markItem(item, result !== false, texts);
    }
    window.clearTimeout(timer);
    if (input.value === "") {
      status.textContent = "";
      lastAnnouncement = "";
    } else if (announceNow) {
      announce(items);
    } else {
      timer = window.setTimeout(() => announce(items), STATUS_DELAY_MS);
    }
  };

  input.addEventListener("input", () => update());
  input.addEventListener("blur", () => update({ announceNow: input.value !== "" }));
  update();
  return update;
}

/** Wire a show/hide button to the password input whose id is in data-password-toggle. */
export function attachToggle(button) {
  const input = document.getElementById(button.dataset.passwordToggle);
  if (!input || button.dataset.passwordToggleBound === "true") return;
  button.dataset.passwordToggleBound = "true";
  if (button.tagName === "BUTTON" && !button.hasAttribute("type")) button.type = "button";
  button.setAttribute("aria-controls", input.id);

  const show = (visible) => {
    input.type = visible ? "text" : "password";
    button.setAttribute("aria-pressed", visible ? "true" : "false");
  };
  show(button.getAttribute("aria-pressed") === "true");
  button.addEventListener("click", () => show(input.type === "password"));
  // The page renders the button hidden (it does nothing without this script): show it now that it works.
  button.hidden = false;
  const box = button.closest("[data-password-toggle-box]");
  if (box) box.hidden = false;
  // Hide the password again before submitting, so that password managers see a password field.
  if (input.form) input.form.addEventListener("submit", () => show(false));
}

/** Initialise every password input and toggle button under root. Safe to call again after a DOM update. */
export function init(root = document) {
  root.querySelectorAll("input[data-password-rules]").forEach((input) => attachRules(input));
  root.querySelectorAll("[data-password-toggle]").forEach((button) => attachToggle(button));
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => init());
  } else {
    init();
  }
}
