// The coverage dashboard's charts: compliance (visits done / due, %) per tier, person and
// territory, as horizontal bars. Data come from the page's json_script (no inline script).
(function () {
  "use strict";
  if (typeof echarts === "undefined") return;
  const source = document.getElementById("coverage-chart-data");
  if (!source) return;
  const data = JSON.parse(source.textContent);
  const charts = [];

  function bars(id, labels, values) {
    const node = document.getElementById(id);
    if (!node) return;
    const chart = echarts.init(node);
    chart.setOption({
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + " %"; } },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value} %" } },
      yAxis: { type: "category", data: labels, inverse: true, axisLabel: { width: 90, overflow: "truncate" } },
      series: [{
        name: data.rate_label, type: "bar", data: values,
        itemStyle: { color: function (p) { return p.value >= 90 ? "#2f9e44" : p.value >= 60 ? "#f08c00" : "#c92a2a"; } },
        label: { show: true, position: "right", formatter: "{c} %" },
      }],
    });
    charts.push(chart);
  }

  bars("chart-tier", data.tiers, data.tier_rates);
  bars("chart-person", data.people, data.person_rates);
  bars("chart-province", data.provinces, data.province_rates);
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
