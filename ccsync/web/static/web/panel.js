// Keeps the sync panel current while a run is open, without reloading the page.
(function () {
  "use strict";
  const panel = document.getElementById("sync-panel");
  if (!panel) return;
  const url = panel.dataset.statusUrl;
  let running = panel.dataset.running === "true";
  const set = (selector, text) => {
    const node = panel.querySelector(selector);
    if (node) node.textContent = text;
  };

  async function refresh() {
    let status;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return;
      status = await response.json();
    } catch (error) {
      return;  // a passing network problem: try again at the next tick
    }
    for (const [name, value] of Object.entries(status.counts)) set(`[data-count="${name}"]`, value);
    // Times come in the pages' own words ("3 minutes ago (7 Dec 2026, 14:05 UTC)").
    set('[data-field="last-change"]', status.times.last_change);
    set('[data-field="sales-read"]', status.times.sales_read);
    if (status.run) {
      const bar = panel.querySelector('[data-field="progress"]');
      if (bar) bar.value = status.run.percent;
      set('[data-field="percent"]', `${status.run.percent}%`);
      set('[data-field="done"]', status.run.progress_label);
      set('[data-field="run-label"]', `${status.run.kind_label}: ${status.run.state_label}`);
    }
    if (running && !status.running) window.location.reload();  // the run ended: show it all
    running = status.running;
  }

  // Every 2 s while a run is open, every 15 s otherwise (a webhook may start one).
  async function tick() {
    if (document.visibilityState === "visible") await refresh();
    setTimeout(tick, running ? 2000 : 15000);
  }
  setTimeout(tick, running ? 2000 : 15000);
})();
