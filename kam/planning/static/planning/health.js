// Account health over time: a line per chart element, from the json_script element the
// element names in data-source (the CSP forbids inline script).
(function () {
  "use strict";
  if (typeof echarts === "undefined") return;
  const charts = [];
  document.querySelectorAll(".planning-health-chart").forEach((el) => {
    const node = document.getElementById(el.dataset.source);
    if (!node) return;
    const data = JSON.parse(node.textContent || "{}");
    const chart = echarts.init(el);
    chart.setOption({
      color: ["#1971c2"],
      grid: { left: 36, right: 12, top: 16, bottom: 28 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.days, axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", min: 0, max: 100, splitLine: { lineStyle: { color: "#eef1f5" } } },
      visualMap: { show: false, pieces: [{ lt: 40, color: "#e03131" }, { gte: 40, lt: 70, color: "#f08c00" }, { gte: 70, color: "#2f9e44" }] },
      series: [{ name: data.label, type: "line", data: data.scores, symbolSize: 4, step: false }],
    });
    charts.push(chart);
  });
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
})();
