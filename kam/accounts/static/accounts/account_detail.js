// Org chart and people graph of the account page, drawn with ECharts from the JSON
// that the page embeds (no inline script: the CSP forbids it).
(function () {
  "use strict";
  const dataNode = document.getElementById("chart-data");
  if (!dataNode || typeof echarts === "undefined") return;
  const data = JSON.parse(dataNode.textContent || "{}");
  if (!data.org) return;
  const charts = {};
  const colors = { contact: "#1971c2", external: "#f08c00", staff: "#2f9e44" };

  function orgChart(el) {
    const chart = echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "item", formatter: (p) => p.data.title ? `${p.data.name}<br>${p.data.title}` : p.data.name },
      series: [{
        type: "tree",
        data: [{ name: data.root, children: data.org }],
        top: "4%", left: "8%", bottom: "4%", right: "14%",
        orient: "LR", symbolSize: 10, initialTreeDepth: -1, expandAndCollapse: true,
        label: { position: "left", verticalAlign: "middle", align: "right", fontSize: 12,
                 formatter: (p) => p.data.title ? `${p.data.name}\n{t|${p.data.title}}` : p.data.name,
                 rich: { t: { color: "#868e96", fontSize: 11 } } },
        leaves: { label: { position: "right", align: "left" } },
        lineStyle: { color: "#adb5bd" },
      }],
    });
    chart.on("click", (p) => { if (p.data && p.data.id) window.location.href = `/contacts/${p.data.id}/`; });
    return chart;
  }

  function peopleGraph(el) {
    const chart = echarts.init(el);
    const kinds = ["contact", "external", "staff"];
    chart.setOption({
      tooltip: { formatter: (p) => p.dataType === "edge" ? p.data.label : `${p.data.name}${p.data.title ? "<br>" + p.data.title : ""}` },
      legend: [{ data: kinds.map((k) => data.labels[k]), bottom: 0 }],
      series: [{
        type: "graph", layout: "force", roam: true, draggable: true,
        force: { repulsion: 180, edgeLength: [60, 140] },
        categories: kinds.map((k) => ({ name: data.labels[k], itemStyle: { color: colors[k] } })),
        data: data.graph.nodes.map((n) => ({ ...n, category: kinds.indexOf(n.kind),
          symbolSize: n.kind === "staff" ? 22 : (n.role === "economic_buyer" ? 30 : 18),
          symbol: n.kind === "staff" ? "diamond" : "circle" })),
        links: data.graph.edges.map((e) => ({ ...e, lineStyle: { type: e.kind === "staff" ? "dashed" : "solid" } })),
        label: { show: true, position: "right", fontSize: 11 },
        edgeLabel: { show: false },
        lineStyle: { color: "source", opacity: 0.6, curveness: 0.1 },
        emphasis: { focus: "adjacency" },
      }],
    });
    return chart;
  }

  function draw(paneId) {
    if (paneId === "pane-org" && !charts.org) {
      const el = document.getElementById("org-chart");
      if (el) charts.org = orgChart(el);
    }
    if (paneId === "pane-graph" && !charts.graph) {
      const el = document.getElementById("people-graph");
      if (el) charts.graph = peopleGraph(el);
    }
  }

  document.querySelectorAll('button[data-bs-toggle="tab"]').forEach((button) => {
    button.addEventListener("shown.bs.tab", (event) => {
      draw(event.target.getAttribute("data-bs-target").slice(1));
    });
  });
  window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
  if (window.location.hash === "#org") document.getElementById("tab-org")?.click();
  if (window.location.hash === "#graph") document.getElementById("tab-graph")?.click();
})();
