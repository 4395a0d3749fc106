// Segmentation charts: the Pareto chart (revenue share per 2 % of customers as bars, the
// cumulative share as a line), tier and category distributions, and an account's
// forecast with its interval. Data come from json_script elements (the CSP forbids
// inline script); each chart element names its source and kind in data attributes.
(function () {
  "use strict";
  if (typeof echarts === "undefined") return;
  const charts = [];
  const num = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

  function pareto(data) {
    const p = data.pareto;
    return {
      color: ["#74c0fc", "#d9480f"],
      grid: { left: 48, right: 56, top: 36, bottom: 40 },
      legend: { top: 0, data: [data.labels.share, data.labels.cumulative] },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: p.bucket.map((b) => b + "%"), name: data.labels.bucket, nameLocation: "middle", nameGap: 26, axisLabel: { hideOverlap: true } },
      yAxis: [
        { type: "value", name: "%", splitLine: { lineStyle: { color: "#eef1f5" } } },
        { type: "value", name: "%", max: 100, splitLine: { show: false } },
      ],
      series: [
        { name: data.labels.share, type: "bar", data: p.share, barMaxWidth: 18 },
        { name: data.labels.cumulative, type: "line", yAxisIndex: 1, data: p.cumulative, symbolSize: 3,
          markLine: { silent: true, symbol: "none", data: [{ yAxis: 80 }], lineStyle: { type: "dashed", color: "#868e96" } } },
      ],
    };
  }

  function bars(items, color) {
    return {
      color: [color],
      grid: { left: 40, right: 16, top: 16, bottom: 48 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: items.map((i) => i.label), axisLabel: { interval: 0, rotate: items.length > 5 ? 20 : 0 } },
      yAxis: { type: "value", axisLabel: { formatter: (v) => num.format(v) } },
      series: [{ type: "bar", data: items.map((i) => i.count), barMaxWidth: 36, label: { show: true, position: "top" } }],
    };
  }

  function forecast(data) {
    const f = data.forecast;
    const lo = f.revenue.lo;
    const width = f.revenue.hi.map((h, i) => Math.max(0, h - lo[i]));
    return {
      color: ["#0b3d6e"],
      grid: { left: 64, right: 16, top: 32, bottom: 28 },
      legend: { top: 0, data: [data.labels.revenue, data.labels.band] },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: f.months },
      yAxis: { type: "value", axisLabel: { formatter: (v) => num.format(v) } },
      series: [
        { name: "lo", type: "line", data: lo, stack: "band", lineStyle: { opacity: 0 }, symbol: "none", tooltip: { show: false } },
        { name: data.labels.band, type: "line", data: width, stack: "band", lineStyle: { opacity: 0 }, symbol: "none", areaStyle: { color: "#a5d8ff", opacity: 0.6 } },
        { name: data.labels.revenue, type: "line", data: f.revenue.mean, symbolSize: 4 },
      ],
    };
  }

  function draw(el) {
    const source = document.getElementById(el.dataset.source);
    if (!source) return;
    const data = JSON.parse(source.textContent || "{}");
    let option = null;
    if (el.dataset.kind === "pareto" && data.pareto && data.pareto.bucket.length) option = pareto(data);
    else if (el.dataset.kind === "tiers" && data.tiers) option = bars(data.tiers, "#1c7ed6");
    else if (el.dataset.kind === "categories" && data.categories) option = bars(data.categories, "#2f9e44");
    else if (el.dataset.kind === "forecast" && data.forecast) option = forecast(data);
    if (!option) return;
    const chart = echarts.init(el);
    chart.setOption(option);
    charts.push(chart);
  }

  document.querySelectorAll(".seg-chart").forEach(draw);
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
})();
