// Bar/line charts of the service dashboard and survey results. Data come from a
// json_script element named by data-source (no inline script: the CSP forbids it):
// {title, labels, series: [{name, data, axis?}]}; a series with axis 1 is a line on a
// second axis (NPS).
(function () {
  "use strict";
  if (typeof echarts === "undefined") return;
  const charts = [];
  document.querySelectorAll(".kam-service-chart").forEach(function (el) {
    const source = document.getElementById(el.dataset.source);
    if (!source) return;
    const data = JSON.parse(source.textContent || "{}");
    if (!data.labels || !data.labels.length) return;
    const twoAxes = data.series.some(function (s) { return s.axis === 1; });
    const chart = echarts.init(el);
    chart.setOption({
      title: { text: data.title, left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { bottom: 0 },
      grid: { left: 48, right: twoAxes ? 48 : 16, top: 40, bottom: 48 },
      xAxis: { type: "category", data: data.labels },
      yAxis: twoAxes
        ? [{ type: "value", min: 0, max: 5 }, { type: "value", min: -100, max: 100 }]
        : [{ type: "value", min: 0, max: 100 }],
      series: data.series.map(function (s) {
        return { name: s.name, type: s.axis === 1 ? "line" : "bar", yAxisIndex: s.axis || 0, data: s.data };
      }),
    });
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
