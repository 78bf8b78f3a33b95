// Tells the server this design was really shown to someone: once the page is visible, never while
// the browser only prerenders it. A file of its own because the Content-Security-Policy allows no
// inline script; the page's own URL for it is the script tag's data-seen attribute.
(function () {
  var script = document.currentScript;
  var url = script && script.getAttribute("data-seen");
  if (!url) {
    return;
  }
  function send() {
    fetch(url, { credentials: "same-origin", keepalive: true });
  }
  if (document.prerendering) {
    document.addEventListener("prerenderingchange", send, { once: true });
  } else {
    send();
  }
})();
