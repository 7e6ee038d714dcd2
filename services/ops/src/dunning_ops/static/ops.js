// Draws every <canvas data-chart=ID> of the page from the page's JSON endpoint
// (the element with data-source): {"charts": [{id, title, kind, labels, series, stacked, unit}]}.
// No animation, so a chart is complete as soon as it is drawn (and a screenshot shows it).
(function () {
  "use strict";
  var PALETTE = ["#0b5cad", "#d9822b", "#1b8a5a", "#a32020", "#7a4bb5", "#2b9bb3",
                 "#b3962b", "#5b6775", "#d94f8a", "#3d8b3d", "#8c564b", "#17becf", "#393b79"];

  function draw(canvas, spec) {
    var figure = canvas.closest("figure");
    if (spec.empty) {
      figure.querySelector(".empty").hidden = false;
    }
    var horizontal = spec.kind === "hbar";
    var type = spec.kind === "line" ? "line" : "bar";
    var datasets = spec.series.map(function (s, i) {
      var color = PALETTE[i % PALETTE.length];
      return { label: s.label, data: s.data, backgroundColor: color, borderColor: color,
               fill: false, pointRadius: 2, tension: 0.1 };
    });
    var scales = {};
    var valueAxis = horizontal ? "x" : "y";
    var labelAxis = horizontal ? "y" : "x";
    scales[valueAxis] = { beginAtZero: true, stacked: spec.stacked,
                          title: { display: !!spec.unit, text: spec.unit } };
    scales[labelAxis] = { stacked: spec.stacked, ticks: { autoSkip: true, maxRotation: 60 } };
    canvas.chart = new Chart(canvas, {
      type: type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        indexAxis: horizontal ? "y" : "x", scales: scales,
        plugins: { legend: { display: spec.series.length > 1, position: "bottom" } }
      }
    });
    canvas.setAttribute("data-drawn", "1");
  }

  function load(holder) {
    fetch(holder.getAttribute("data-source"), { credentials: "same-origin",
                                                headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (!r.ok) { throw new Error("answered " + r.status); }
        return r.json();
      })
      .then(function (body) {
        body.charts.forEach(function (spec) {
          var canvas = holder.querySelector('canvas[data-chart="' + spec.id + '"]');
          if (canvas) { draw(canvas, spec); }
        });
        holder.setAttribute("data-loaded", "1");
      })
      .catch(function (err) {
        holder.setAttribute("data-error", String(err));
      });
  }

  document.querySelectorAll("[data-source]").forEach(load);
})();
