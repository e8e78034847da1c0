// Draws the page's charts (ECharts, served by the hub) from the JSON the server put in #chart-data.
(function () {
  var source = document.getElementById("chart-data");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var font = '"Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei", sans-serif';
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var items = data[el.getAttribute("data-chart")] || [];
    var chart = echarts.init(el, null, { renderer: "canvas" });
    var option;
    if (el.getAttribute("data-kind") === "pie") {
      option = {
        textStyle: { fontFamily: font },
        tooltip: { trigger: "item", formatter: "{b}：{c} 处（{d}%）" },
        legend: { bottom: 0, left: "center" },
        series: [{ type: "pie", radius: ["30%", "52%"], center: ["50%", "45%"], label: { formatter: "{c} 处" },
          avoidLabelOverlap: true,
          data: items.map(function (i) { return { name: i.name, value: i.value, itemStyle: { color: i.colour } }; }) }]
      };
    } else {
      var top = Math.max.apply(null, items.map(function (i) { return i.value; }).concat([0]));
      option = {
        textStyle: { fontFamily: font },
        tooltip: { trigger: "axis" },
        grid: { left: 40, right: 16, top: 16, bottom: 48 },
        xAxis: { type: "category", data: items.map(function (i) { return i.name; }), axisLabel: { interval: 0, rotate: items.length > 4 ? 20 : 0 } },
        // an all-zero chart keeps its axis at 0..1: no negative values, no empty scale
        yAxis: { type: "value", min: 0, max: top > 0 ? null : 1, minInterval: 1 },
        series: [{ type: "bar", barMaxWidth: 36, label: { show: true, position: "top" },
          data: items.map(function (i) { return { value: i.value, itemStyle: { color: i.colour || "#1a5cb3" } }; }) }]
      };
    }
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
