/* The energy platform's page: the meters the user may read, today's and this month's cleaned
   energy with completeness and what happened, and one meter's load curve with its flags. */
(function () {
  'use strict';
  const GP = window.GP;
  const _ = GP._;
  const N_ = (s) => s;
  const html = GP.html;
  // words first, outside the templates (the catalogue's extractor does not look inside backticks)
  const FLAG = {
    GLITCH: N_('a drop that came back, skipped'), RESET: N_('the counter restarted'), WRAP: N_('the counter wrapped'),
    SPIKE: N_('an implausible step, rejected'), INTERPOLATED: N_('spread over an outage'), PENDING: N_('a drop not yet explained'),
    STEP: N_('the counter was replaced'), INVALID: N_('an unreadable reading'), GAP: N_('a period that did not arrive'),
  };
  const LEVEL = { plant: N_('whole plant'), process: N_('process'), equipment: N_('key equipment'), usage: N_('usage') };
  const W = {
    synthetic: N_('synthetic'), sub: N_('sub-meter'), energy: N_('Energy'), completeness: N_('Completeness'),
    none: N_('No meter yet: meters are added by the park (greenpark energy meter-add) and report through their gateway.'),
    summary: N_('{n} meters; {flagged} with something to look at this month.'),
  };
  const flags = (list) => (list && list.length ? GP.join(list.map((f) => html`<span class="badge warn">${FLAG[f] ? _(FLAG[f]) : f}</span>`), ' ') : '');
  const pct = (v) => (v === null || v === undefined ? '–' : GP.fmt(v, 1) + '%');
  const level = (l) => (LEVEL[l] ? _(LEVEL[l]) : l);
  const carrier = (r) => (GP.zh() ? r.carrier_name_zh : r.carrier_name_en);
  let meters = [];
  let current = null;
  let asking = 0;

  function draw() {
    const q = document.getElementById('en-filter').value.trim().toLowerCase();
    const rows = meters.filter((r) => !q || `${r.enterprise} ${r.enterprise_name} ${r.code} ${r.name}`.toLowerCase().includes(q));
    const tb = document.getElementById('en-meters').tBodies[0];
    const synthetic = _(W.synthetic);
    const sub = _(W.sub);
    GP.setHTML(tb, rows.length ? html`${rows.map((r) => html`<tr data-meter="${r.code}">
      <td translate="no">${r.enterprise_name}</td>
      <td><a href="#" class="en-open" data-code="${r.code}" translate="no">${r.name}</a> <span class="note" translate="no">${r.code}</span>${r.synthetic ? html` <span class="badge">${synthetic}</span>` : ''}${r.counted ? '' : html` <span class="note">${sub}</span>`}</td>
      <td>${carrier(r)}</td><td>${level(r.level)}</td><td>${GP.when(r.last_reading_utc)}</td>
      <td class="num">${GP.fmt(r.today_energy, 1)} ${GP.unit(r.unit)}</td><td class="num">${pct(r.today_coverage_pct)}</td>
      <td class="num">${GP.fmt(r.month_energy, 0)} ${GP.unit(r.unit)}</td><td class="num">${pct(r.month_coverage_pct)}</td>
      <td>${flags(r.month_flags)}</td></tr>`)}` : html`<tr><td colspan="10" class="note">${_(W.none)}</td></tr>`);
    tb.querySelectorAll('a.en-open').forEach((a) => a.addEventListener('click', (e) => { e.preventDefault(); openMeter(a.dataset.code).catch(showError); }));
  }

  function showError(e) { const el = document.getElementById('page-error'); el.hidden = false; el.textContent = e.message || String(e); }

  async function openMeter(code) {
    current = meters.find((x) => x.code === code);
    if (!current) return;
    const card = document.getElementById('en-meter-card');
    card.hidden = false;
    document.getElementById('en-meter-title').textContent = `${current.enterprise_name} · ${current.name} (${current.code})`;
    const days = Number(document.getElementById('en-days').value);
    const step = document.getElementById('en-step').value;
    const end = new Date(Date.now() + 8 * 3600e3); // Beijing wall time, as the API reads it
    const start = new Date(end.getTime() - days * 86400e3);
    const iso = (d) => d.toISOString().slice(0, 16);
    const asked = ++asking; // the answer to an older choice may come last: only the newest is shown
    const d = await GP.api(`/api/energy/meters/${encodeURIComponent(code)}/series?` + new URLSearchParams({ step, start: iso(start), end: iso(end) }));
    if (asked !== asking) return;
    const s = d.series;
    const skipped = ['GLITCH', 'SPIKE', 'RESET', 'INVALID', 'STEP', 'WRAP', 'GAP'];
    const colour = (x) => (x.flags.includes('INTERPOLATED') ? '#e67e22' : x.flags.some((f) => skipped.includes(f)) ? '#c0392b' : '#2e86c1');
    const energy = _(W.energy);
    const completeness = _(W.completeness);
    card.dataset.drawn = '';
    const chart = GP.chart('en-chart', {
      tooltip: { trigger: 'axis' },
      legend: { top: 0, data: [energy, completeness] },
      grid: { left: 70, right: 60, top: 40, bottom: 40 },
      xAxis: { type: 'category', data: s.map((x) => x.start) },
      yAxis: [{ type: 'value', name: GP.unit(d.unit) }, { type: 'value', name: '%', min: 0, max: 100 }],
      series: [
        { name: energy, type: 'bar', data: s.map((x) => ({ value: x.energy, itemStyle: { color: colour(x) } })) },
        { name: completeness, type: 'line', yAxisIndex: 1, showSymbol: false, data: s.map((x) => x.coverage_pct), lineStyle: { color: '#1d6b4f' }, itemStyle: { color: '#1d6b4f' } },
      ],
    });
    if (chart) chart.on('finished', () => { card.dataset.drawn = '1'; });
    GP.setHTML(document.getElementById('en-series').tBodies[0], html`${s.map((x) => html`<tr><td>${x.start}</td><td class="num">${GP.fmt(x.energy, 2)} ${GP.unit(x.unit)}</td><td class="num">${pct(x.coverage_pct)}</td><td>${flags(x.flags)}</td></tr>`)}`);
    card.scrollIntoView({ block: 'start' });
  }

  GP.pages.energy = async function () {
    try {
      const d = await GP.api('/api/energy/overview');
      meters = d.meters;
      const flagged = meters.filter((r) => r.month_flags && r.month_flags.length).length;
      document.getElementById('en-summary').textContent = _(W.summary, { n: meters.length, flagged });
      draw();
      document.getElementById('en-filter').addEventListener('input', draw);
      for (const id of ['en-step', 'en-days']) document.getElementById(id).addEventListener('change', () => current && openMeter(current.code).catch(showError));
    } catch (e) {
      showError(e);
    }
    document.body.dataset.ready = '1';
  };
})();
