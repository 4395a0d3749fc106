// The shipments chart of the account and group pages: waybills as bars, revenue and
// margin as lines on a second axis. Data come from the json_script the panel embeds
// (no inline script: the CSP forbids it). Money arrives as decimal strings.
(function () {
  "use strict";
  if (typeof echarts === "undefined") return;
  const charts = [];
  const grouped = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  const money = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  // As the pages' money filter: a loss reads −¥872.07, never ¥-872.07.
  const yuan = (value) => (value < 0 && money.format(-value) !== "0.00" ? "\u2212¥" : "¥") + money.format(Math.abs(value));

  // Axis labels: 1.5万 / 15万 / 1.2亿 in Chinese, 1.5k / 2M in English.
  function scaled(value, unit, suffix) {
    const x = value / unit;
    return (Math.abs(x) >= 10 ? x.toFixed(0) : x.toFixed(1).replace(/\.0$/, "")) + suffix;
  }

  function compact(value) {
    const abs = Math.abs(value);
    if (abs >= 1e8) return scaled(value, 1e8, "亿");
    if (abs >= 1e4) return scaled(value, 1e4, "万");
    return grouped.format(value);
  }

  function compactEn(value) {
    const abs = Math.abs(value);
    if (abs >= 1e9) return scaled(value, 1e9, "B");
    if (abs >= 1e6) return scaled(value, 1e6, "M");
    if (abs >= 1e3) return scaled(value, 1e3, "k");
    return grouped.format(value);
  }

  function draw(el) {
    const source = document.getElementById(el.dataset.source);
    if (!source) return;
    const data = JSON.parse(source.textContent || "{}");
    if (!data.months || !data.months.length) return;
    const short = (document.documentElement.lang || "").startsWith("zh") ? compact : compactEn;
    const toNumber = (v) => (v === null || v === undefined ? null : Number(v));
    const chart = echarts.init(el);
    chart.setOption({
      color: ["#74c0fc", "#0b3d6e", "#d9480f"],
      grid: { left: 56, right: 72, top: 40, bottom: 28 },
      legend: { top: 0, data: [data.labels.waybills, data.labels.revenue, data.labels.margin] },
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        formatter: function (items) {
          const i = items[0].dataIndex;
          const lines = [data.months[i]];
          lines.push(`${items[0].marker} ${data.labels.waybills}: ${grouped.format(data.waybills[i])}`);
          const revenue = items.find((p) => p.seriesIndex === 1);
          if (revenue) lines.push(`${revenue.marker} ${data.labels.revenue}: ${yuan(Number(data.revenue[i]))}`);
          const margin = items.find((p) => p.seriesIndex === 2);
          if (margin && data.margin[i] !== null) lines.push(`${margin.marker} ${data.labels.margin}: ${yuan(Number(data.margin[i]))}`);
          return lines.join("<br>");
        },
      },
      xAxis: { type: "category", data: data.months, axisLabel: { hideOverlap: true } },
      yAxis: [
        { type: "value", name: data.labels.count, axisLabel: { formatter: short }, splitLine: { lineStyle: { color: "#eef1f5" } } },
        { type: "value", name: data.labels.money, axisLabel: { formatter: short }, splitLine: { show: false } },
      ],
      series: [
        { name: data.labels.waybills, type: "bar", data: data.waybills, barMaxWidth: 22 },
        { name: data.labels.revenue, type: "line", yAxisIndex: 1, data: data.revenue.map(toNumber), symbolSize: 5, smooth: false },
        { name: data.labels.margin, type: "line", yAxisIndex: 1, data: data.margin.map(toNumber), symbolSize: 5, connectNulls: false, lineStyle: { type: "dashed" } },
      ],
    });
    charts.push(chart);
  }

  document.querySelectorAll(".kam-facts-chart").forEach(draw);
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
})();
