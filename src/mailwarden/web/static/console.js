/* Mailwarden console: the few live parts (timeline refresh, charts, demo progress). */
(function () {
  "use strict";

  function announce(text) {
    var region = document.getElementById("live-status");
    if (region) { region.textContent = text; }
  }

  /* Elements with data-poll-url are refreshed from that URL (an HTML fragment). */
  function startPolling(element) {
    var url = element.getAttribute("data-poll-url");
    var every = parseInt(element.getAttribute("data-poll-seconds") || "5", 10) * 1000;
    var label = element.getAttribute("data-poll-label") || "entries";
    function refresh() {
      if (document.hidden) { return schedule(); }
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (response.redirected || !response.ok) { throw new Error("stopped"); }
          return response.text();
        })
        .then(function (html) {
          if (html !== element.getAttribute("data-last")) {
            var before = element.children.length;
            element.innerHTML = html;
            element.setAttribute("data-last", html);
            var added = element.children.length - before;
            if (added > 0) { announce(added + " new " + label); }
          }
          schedule();
        })
        .catch(function () { announce("Live updates stopped; reload the page."); });
    }
    function schedule() { window.setTimeout(refresh, every); }
    element.setAttribute("data-last", element.innerHTML.trim());
    schedule();
  }

  var PHASE_COLOURS = {
    detected: "rgba(220, 38, 38, 0.13)", acknowledged: "rgba(245, 158, 11, 0.15)",
    contained: "rgba(37, 99, 235, 0.13)", eradicated: "rgba(124, 58, 237, 0.13)",
    recovered: "rgba(22, 163, 74, 0.13)"
  };
  var LINE_COLOURS = ["#dc2626", "#2563eb", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];

  function phaseBands(phases) {
    return function (u) {
      var ctx = u.ctx;
      ctx.save();
      phases.forEach(function (phase) {
        var left = u.valToPos(phase.start, "x", true);
        var right = u.valToPos(phase.end, "x", true);
        left = Math.max(left, u.bbox.left);
        right = Math.min(right, u.bbox.left + u.bbox.width);
        if (right <= left) { return; }
        ctx.fillStyle = PHASE_COLOURS[phase.name] || "rgba(100, 100, 100, 0.1)";
        ctx.fillRect(left, u.bbox.top, right - left, u.bbox.height);
      });
      ctx.restore();
    };
  }

  function drawChart(element) {
    var source = document.getElementById(element.getAttribute("data-chart"));
    if (!source || typeof window.uPlot !== "function") { return; }
    var data = JSON.parse(source.textContent);
    if (!data.x || data.x.length < 2) { return; }
    var width = Math.max(280, element.clientWidth);
    var series = [{}];
    var columns = [data.x];
    data.series.forEach(function (item, index) {
      series.push({
        label: item.label, stroke: LINE_COLOURS[index % LINE_COLOURS.length], width: 2,
        scale: item.scale || "rate", spanGaps: false,
        value: function (u, v) { return v == null ? "-" : v.toFixed(item.digits || 2) + (item.unit || ""); }
      });
      columns.push(item.values);
    });
    var options = {
      width: width, height: 260, series: series,
      scales: { x: { time: true } },
      axes: [{}, { scale: "rate", label: data.y_label || "", size: 60 }],
      hooks: { drawClear: [phaseBands(data.phases || [])] }
    };
    element.innerHTML = "";
    var chart = new window.uPlot(options, columns, element);
    element.setAttribute("data-drawn", "true");
    window.addEventListener("resize", function () {
      chart.setSize({ width: Math.max(280, element.clientWidth), height: 260 });
    });
  }

  /* The first-run demo: show the loader's progress, then reload to the working console. */
  function followDemo(element) {
    var url = element.getAttribute("data-demo-status");
    var bar = element.querySelector("progress");
    var text = element.querySelector("[data-demo-text]");
    function check() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (status) {
          if (bar && status.total) { bar.max = status.total; bar.value = status.done; }
          if (text) { text.textContent = status.message; }
          if (status.state === "finished") { window.location.assign("/"); return; }
          if (status.state !== "failed") { window.setTimeout(check, 1000); }
        })
        .catch(function () { window.setTimeout(check, 2000); });
    }
    check();
  }

  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-poll-url]").forEach(startPolling);
    document.querySelectorAll("[data-chart]").forEach(drawChart);
    document.querySelectorAll("[data-demo-status]").forEach(followDemo);
    confirmations();
  });
})();
