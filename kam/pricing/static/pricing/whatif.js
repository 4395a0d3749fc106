// The quote page's what-if chart: revenue today and under the proposal as bars, the two
// margins as lines on a second axis. Data come from the json_script the fragment embeds
// (no inline script: the CSP forbids it); money arrives as decimal strings. The fragment
// is swapped in by HTMX, so the chart is drawn after each swap.
(function () {
  "use strict";
  const money = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const yuan = (v) => (v < 0 ? "\u2212¥" : "¥") + money.format(Math.abs(v));
  const compact = (v) => {
    const zh = (document.documentElement.lang || "").startsWith("zh");
    const a = Math.abs(v);
    if (zh && a >= 1e8) return (v / 1e8).toFixed(1) + "亿";
    if (zh && a >= 1e4) return (v / 1e4).toFixed(a >= 1e5 ? 0 : 1) + "万";
    if (!zh && a >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (!zh && a >= 1e3) return (v / 1e3).toFixed(0) + "k";
    return String(Math.round(v));
  };
  const charts = [];

  function draw(el) {
    if (typeof echarts === "undefined" || el.dataset.drawn) return;
    const source = document.getElementById(el.dataset.source);
    if (!source) return;
    const data = JSON.parse(source.textContent || "null");
    if (!data || !data.months.length) return;
    el.dataset.drawn = "1";
    const num = (v) => (v === null ? null : Number(v));
    const chart = echarts.init(el);
    chart.setOption({
      color: ["#74c0fc", "#0b3d6e", "#adb5bd", "#d9480f"],
      grid: { left: 56, right: 56, top: 48, bottom: 28 },
      legend: { top: 0 },
      tooltip: {
        trigger: "axis",
        valueFormatter: (v) => (v === null || v === undefined ? "—" : String(v)),
        formatter: (items) => {
          const i = items[0].dataIndex;
          const lines = [data.months[i]];
          items.forEach((p) => {
            const v = p.value;
            const text = v === null || v === undefined ? "—" : p.seriesIndex < 2 ? yuan(v) : v.toFixed(1) + " %";
            lines.push(`${p.marker} ${p.seriesName}: ${text}`);
          });
          return lines.join("<br>");
        },
      },
      xAxis: { type: "category", data: data.months },
      yAxis: [
        { type: "value", axisLabel: { formatter: compact } },
        { type: "value", axisLabel: { formatter: "{value} %" }, splitLine: { show: false } },
      ],
      series: [
        { name: data.labels.current, type: "bar", data: data.current.map(num) },
        { name: data.labels.proposed, type: "bar", data: data.proposed.map(num) },
        { name: data.labels.currentMargin, type: "line", yAxisIndex: 1, data: data.currentMargin.map(num) },
        { name: data.labels.proposedMargin, type: "line", yAxisIndex: 1, data: data.proposedMargin.map(num) },
      ],
    });
    charts.push(chart);
  }

  function drawAll() {
    document.querySelectorAll("[data-whatif-chart]").forEach(draw);
  }
  document.addEventListener("DOMContentLoaded", drawAll);
  document.body && document.body.addEventListener("htmx:afterSettle", drawAll);
  document.addEventListener("htmx:afterSettle", drawAll);
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
})();
