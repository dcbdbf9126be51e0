/* Entitle desk: progressive enhancement, no dependencies.
 *
 * 1. The INSZ field is checked as it is typed, with the rules of entitle.insz (11 digits, dots,
 *    spaces and a dash allowed; month 00-12, +20/+40 bis, +60 test; day 00-31; counter 001-998;
 *    check digits 97 - (N mod 97), N prefixed with 2 for births from 2000; a given month and day
 *    must be a real date in the year the check digits point to). A wrong number is
 *    refused before it is sent; the server checks again.
 * 2. Forms with data-partial="#target" are sent in the background (header HX-Request: true) and
 *    only the target is replaced, as HTMX would; without JavaScript they post as usual.
 * 3. Any new input (a number typed, another benefit chosen) clears the previous card: it was about
 *    another person or another benefit. After a card the number field has the focus again (its
 *    number selected), ready for the next card read; the card is announced (aria-live).
 * 4. A form with data-busy (the what-if) says, while its answer is on its way, that it is
 *    working and for how long (the message's {seconds}), in a live region.
 * A card reader types 11 digits and Enter: Enter submits the form.
 */
(function () {
  "use strict";

  var SEPARATORS = ".- /";

  function inszProblem(text) {
    var digits = "";
    for (var i = 0; i < text.length; i++) {
      var c = text.charAt(i);
      if (SEPARATORS.indexOf(c) >= 0) continue;
      if (c < "0" || c > "9") return { code: "chars" };
      digits += c;
    }
    if (digits.length !== 11) return { code: "length", n: digits.length };
    var mm = parseInt(digits.substring(2, 4), 10);
    var dd = parseInt(digits.substring(4, 6), 10);
    var sss = parseInt(digits.substring(6, 9), 10);
    var check = parseInt(digits.substring(9, 11), 10);
    if (mm % 20 > 12 || mm >= 80) return { code: "month", mm: digits.substring(2, 4) };
    if (dd > 31) return { code: "day", dd: digits.substring(4, 6) };
    if (sss === 0 || sss === 999) return { code: "counter", sss: digits.substring(6, 9) };
    var first9 = parseInt(digits.substring(0, 9), 10);
    var before2000 = 97 - (first9 % 97);
    var from2000 = 97 - ((2000000000 + first9) % 97);
    if (check !== before2000 && check !== from2000) return { code: "check" };
    var month = mm % 20;
    if (month && dd) {
      var year = (check === before2000 ? 1900 : 2000) + parseInt(digits.substring(0, 2), 10);
      var days = new Date(Date.UTC(year, month, 0)).getUTCDate(); // day 0 of the next month
      if (dd > days) {
        return { code: "date", dd: digits.substring(4, 6), mm: (month < 10 ? "0" : "") + month };
      }
    }
    return null;
  }

  function message(input, problem) {
    var template = input.getAttribute("data-msg-" + problem.code) || problem.code;
    return template.replace(/\{(\w+)\}/g, function (_, key) {
      return problem[key] !== undefined ? String(problem[key]) : "";
    });
  }

  function showStatus(input, problem, final) {
    var status = document.getElementById(input.id + "-status");
    if (!status) return;
    if (!problem) {
      input.removeAttribute("aria-invalid");
      status.className = "status ok";
      status.textContent = input.value.trim() ? input.getAttribute("data-msg-ok") || "" : "";
      return;
    }
    // while typing, a number that is merely too short is not yet an error
    if (!final && problem.code === "length" && problem.n < 11) {
      input.removeAttribute("aria-invalid");
      status.className = "status";
      status.textContent = "";
      return;
    }
    input.setAttribute("aria-invalid", "true");
    status.className = "status error";
    status.textContent = (input.getAttribute("data-msg-prefix") || "") + message(input, problem);
  }

  function showBusy(form, template) {
    var status = document.getElementById(form.id + "-busy");
    if (!status) {
      status = document.createElement("p");
      status.id = form.id + "-busy";
      status.className = "notice-box busy";
      status.setAttribute("role", "status");
      form.parentNode.insertBefore(status, form.nextSibling);
    }
    form.setAttribute("aria-busy", "true");
    var started = Date.now();
    function tick() {
      var seconds = Math.round((Date.now() - started) / 1000);
      status.textContent = template.replace("{seconds}", String(seconds));
    }
    tick();
    window.setInterval(tick, 1000);
  }

  function clearResult() {
    var result = document.getElementById("result");
    if (result && result.firstElementChild) result.innerHTML = "";
  }

  function focusResult(target) {
    var insz = document.getElementById("insz");
    if (insz && target.querySelector("#card") && !target.querySelector("[role=alert]")) {
      insz.focus();
      insz.select(); // the next card read replaces the number
      return;
    }
    var focus =
      target.querySelector("[role=alert]") ||
      target.querySelector("#card") ||
      target.querySelector("#notice") ||
      target.querySelector("#others-section");
    if (focus) {
      if (!focus.hasAttribute("tabindex")) focus.setAttribute("tabindex", "-1");
      focus.focus();
    }
  }

  function submitPartial(form, target, button) {
    var body = new URLSearchParams(new FormData(form));
    form.setAttribute("aria-busy", "true");
    if (button) button.disabled = true;
    fetch(form.getAttribute("action"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "HX-Request": "true", Accept: "text/html" },
    })
      .then(function (response) {
        var redirect = response.headers.get("HX-Redirect");
        if (redirect) {
          window.location.assign(redirect);
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (html === null) return;
        target.innerHTML = html;
        focusResult(target);
        var insz = document.getElementById("insz");
        var error = target.querySelector("[data-field=insz]");
        if (insz && error) {
          insz.setAttribute("aria-invalid", "true");
          insz.focus();
        }
      })
      .catch(function () {
        form.submit(); // the network failed: fall back to an ordinary post
      })
      .then(function () {
        form.removeAttribute("aria-busy");
        if (button) button.disabled = false;
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var insz = document.getElementById("insz");
    if (insz) {
      insz.addEventListener("input", function () {
        clearResult();
        showStatus(insz, inszProblem(insz.value), false);
      });
      var form = document.getElementById("check-form");
      if (form) {
        form.addEventListener("change", function (event) {
          if (event.target && event.target.name === "benefit") clearResult();
        });
      }
      insz.addEventListener("focus", function () {
        insz.select(); // the next card read replaces the previous number
      });
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var field = form.querySelector("#insz");
    if (field) {
      var problem = inszProblem(field.value);
      showStatus(field, problem, true);
      if (problem) {
        event.preventDefault();
        clearResult();
        field.focus();
        return;
      }
    }
    var busy = form.getAttribute("data-busy");
    if (busy && !event.defaultPrevented) {
      showBusy(form, busy);
      return; // an ordinary post: the page is replaced when the answer comes
    }
    var selector = form.getAttribute("data-partial");
    if (!selector || !window.fetch || !window.URLSearchParams) return;
    var target = document.querySelector(selector);
    if (!target) return;
    event.preventDefault();
    submitPartial(form, target, event.submitter || form.querySelector("button[type=submit]"));
  });

  window.entitleInszProblem = inszProblem; // for the browser tests
})();
