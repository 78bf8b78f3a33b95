// Back-and-resubmit places one order. The form's hidden one-time token decides which order a POST
// belongs to; a browser that re-fetches the form on Back (instead of restoring it from its page
// cache) restores the typed-in fields but renders a fresh token, so a resubmit would order twice.
// We remember the token of the form last sent in this tab and put it back on a Back/Forward visit.
// A new visit (a link, a reload) keeps the fresh token: that is a new order.
(function () {
  "use strict";
  var form = document.querySelector("form.order-form");
  var token = form && form.querySelector("input[name=form_token]");
  if (!token || !window.sessionStorage) { return; }
  var KEY = "pizza-order-form-token";
  var navigation = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
  try {
    var sent = sessionStorage.getItem(KEY);
    if (sent && navigation && navigation.type === "back_forward") { token.value = sent; }
  } catch (e) { /* storage blocked: the server-side token still stops double clicks */ }
  form.addEventListener("submit", function () {
    try { sessionStorage.setItem(KEY, token.value); } catch (e) { /* as above */ }
  });
}());
