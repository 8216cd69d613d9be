/* greenpark: the plan's projects and tasks, and land-use intensity pages. */
(function () {
  'use strict';
  const GP = window.GP;
  // Words come from the catalogue: _ translates an English message id, N_ only marks one (translated
  // where it is shown). Ids are written outside template literals: the extractor skips backticks.
  const _ = GP._;
  const N_ = (s) => s;
  const html = GP.html;
  const STATUS = { not_started: N_('not started'), in_progress: N_('under construction'), done: N_('completed'), suspended: N_('suspended') };
  const COND = { overdue: N_('overdue'), behind: N_('behind schedule'), stalled: N_('stalled') };
  const PARCEL_STATUS = { pending: N_('to be disposed of'), in_progress: N_('being disposed of'), disposed: N_('disposed of') };
  const word = (table, k) => (table[k] ? _(table[k]) : k);
  // a zone by its name in the page's language (the API gives the code and both names)
  const zoneName = (r) => (r.zone ? (GP.zh() ? r.zone_name_zh : r.zone_name_en) || GP.name(r.zone) : '');
  function fail(e) { const b = document.getElementById('page-error'); b.hidden = false; b.textContent = /401/.test(e.message) ? _('Please log in') : /403/.test(e.message) ? _('Not allowed') : e.message; document.body.dataset.ready = '1'; }

  GP.projectsPage = async () => {
    try {
      const d = await GP.api('/api/projects');
      const ps = d.projects;
      GP.chart('chart-projects', {
        tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 170, right: 20, top: 30, bottom: 20 },
        // each project by its number and the start of its name (the table below has the whole name)
        yAxis: { type: 'category', inverse: true, data: ps.map((p) => `${p.seq} ${p.name.length > 11 ? p.name.slice(0, 10) + '…' : p.name}`) },
        xAxis: { type: 'value', max: 100, name: '%' },
        series: [
          { name: _('planned progress'), type: 'bar', data: ps.map((p) => (p.planned_percent === null ? 0 : Math.round(p.planned_percent))), itemStyle: { color: '#d5dbdb' }, barGap: '-100%' },
          { name: _('actual progress'), type: 'bar', itemStyle: { color: '#2f855a' }, data: ps.map((p) => ({ value: p.percent, itemStyle: { color: p.condition.length ? '#c0392b' : '#2f855a' } })), barWidth: '45%' },
          // the legend's key for the red bars
          { name: _('late, behind or stalled'), type: 'bar', data: [], itemStyle: { color: '#c0392b' } },
        ],
      });
      const tb = document.querySelector('#pj-table tbody');
      const details = _('Details');
      GP.setHTML(tb, html`${ps.map((p) => html`<tr class="clickable" data-seq="${p.seq}"><td>${p.seq}</td><td>${GP.name(p.name)}${p.flag ? html`<br><span class="note warn">⚠ ${p.flag_text}</span>` : ''}</td><td>${GP.name(p.owner)}</td><td class="num">${GP.fmt(p.investment_10k_yuan, 0)}</td><td>${p.planned_start || '–'} → ${p.planned_end || '–'}</td><td>${word(STATUS, p.status)} ${GP.join(p.condition.map((c) => html`<span class="status unconfirmed">${word(COND, c)}</span>`), ' ')}</td><td class="num">${GP.fmt(p.percent, 0)}</td><td><button class="pj-open">${details}</button></td></tr>`)}`);
      tb.querySelectorAll('tr').forEach((tr) => (tr.onclick = () => GP.projectDetail(Number(tr.dataset.seq), ps.find((x) => x.seq === Number(tr.dataset.seq)))));
      GP.table(document.getElementById('pj-table'));
      // the plan's own words (Table 4.3.1: its groups, actions, measures and departments) are quoted as they are
      const tasks = await GP.api('/api/projects/tasks');
      GP.setHTML(document.getElementById('pj-tasks'), html`${tasks.map((g) => html`<section class="task-group"><h3>${g.seq}. ${GP.name(g.name)}</h3>${g.actions.map((a) => html`<details><summary>${GP.name(a.name)} (${a.measures.length})</summary><ul>${a.measures.map((m) => html`<li translate="no"><b>${m.name}</b> — ${m.text} <span class="note">${m.departments.join('、')}</span></li>`)}</ul></details>`)}</section>`)}`);
      taskSearch();
      await GP.ready();
    } catch (e) { fail(e); }
  };

  // the task tree is read, not tabulated: a search shows the measures (and their actions and groups)
  // whose words contain the query, and opens them
  function taskSearch() {
    const box = document.getElementById('pj-tasks'), input = document.getElementById('pj-task-search');
    if (!input) return;
    const count = document.getElementById('pj-task-count');
    const filter = () => {
      const q = input.value.trim().toLowerCase();
      const has = (el) => el.textContent.toLowerCase().includes(q);
      let n = 0, total = 0;
      box.querySelectorAll('section.task-group').forEach((g) => {
        const groupHit = !q || has(g.querySelector('h3'));
        let inGroup = 0;
        g.querySelectorAll('details').forEach((det) => {
          const actionHit = groupHit || has(det.querySelector('summary'));
          let shown = 0;
          det.querySelectorAll('li').forEach((li) => { total += 1; const ok = actionHit || has(li); li.hidden = !ok; if (ok) shown += 1; });
          det.hidden = !shown;
          if (q) det.open = shown > 0;
          inGroup += shown;
        });
        g.hidden = !inGroup;
        n += inGroup;
      });
      count.textContent = q ? _('{n} of {total} measures', { n, total }) : _('{total} measures', { total });
    };
    input.oninput = filter;
    filter();
  }

  GP.projectDetail = async (seq, p) => {
    const box = document.getElementById('pj-detail'); box.hidden = false;
    const hist = await GP.api(`/api/projects/${seq}/history`);
    const staff = document.body.dataset.staff === '1';
    const w = {
      date: _('Date'), status: _('Status'), spent: _('Spent (10⁴ yuan)'), milestone: _('Milestone'), note: _('Note'), by: _('Reported by'),
      none: _('No progress reported yet'), report: _('Report progress'), percent: _('Progress (%)'), attachment: _('Attachment (at most 10 MB)'),
      file: _('File'), newReport: _('New progress report'),
    };
    const download = (h) => (h.attachment ? html`<a href="/api/projects/${seq}/updates/${h.id}/attachment" download translate="no">${h.attachment}</a>` : '');
    GP.setHTML(box, html`<h2>#${seq} <span translate="no">${p.name}</span></h2><p translate="no">${p.content}</p><p class="note" translate="no">${p.benefit}</p>
      <table class="data" id="pj-history"><thead><tr><th>${w.date}</th><th>${w.status}</th><th class="num">%</th><th class="num">${w.spent}</th><th>${w.milestone}</th><th>${w.note}</th><th>${w.by}</th><th>${w.file}</th></tr></thead><tbody>
      ${hist.length ? hist.map((h) => html`<tr><td>${h.on}</td><td>${word(STATUS, h.status)}</td><td class="num">${h.percent}</td><td class="num">${GP.fmt(h.spent_10k_yuan, 0)}</td><td translate="no">${h.milestone}</td><td translate="no">${h.note}</td><td translate="no">${h.by}</td><td>${download(h)}</td></tr>`) : html`<tr class="empty"><td colspan="8" class="note">${w.none}</td></tr>`}</tbody></table>
      ${staff ? html`<h3>${w.newReport}</h3><form id="pj-form" class="inline-form">
        <label>${w.status} <select name="status">${Object.keys(STATUS).map((s) => html`<option value="${s}" ${s === p.status ? html`selected` : ''}>${word(STATUS, s)}</option>`)}</select></label>
        <label>${w.percent} <input name="percent" type="number" min="0" max="100" step="1" value="${p.percent}" required></label>
        <label>${w.spent} <input name="spent_10k_yuan" type="number" min="0" step="any" value="${p.spent_10k_yuan}"></label>
        <label>${w.date} <input name="on" type="date"></label>
        <label>${w.milestone} <input name="milestone" maxlength="200"></label>
        <label class="wide">${w.note} <input name="note" maxlength="2000"></label>
        <label>${w.attachment} <input name="attachment" type="file"></label>
        <button>${w.report}</button></form><p id="pj-form-result" role="status"></p>` : ''}`);
    GP.table(document.getElementById('pj-history'));
    const f = document.getElementById('pj-form');
    if (f) f.onsubmit = async (ev) => {
      ev.preventDefault();
      const fd = new FormData(f); if (!fd.get('attachment') || !fd.get('attachment').size) fd.delete('attachment');
      const r = await GP.fetch(`/api/projects/${seq}/updates`, { method: 'POST', body: fd, credentials: 'same-origin', headers: { 'X-CSRF-Token': document.body.dataset.csrf } });
      const d = await r.json();
      const recorded = _('Progress recorded');
      GP.setHTML(document.getElementById('pj-form-result'), r.ok ? html`<span class="good">${recorded}</span>` : html`<span class="bad">${d.detail}</span>`);
      if (r.ok) { await GP.projectsPage(); await GP.projectDetail(seq, d.project); }
    };
    box.scrollIntoView();
  };

  GP.landPage = async () => {
    try {
      const year = document.getElementById('ld-year');
      const rows = await GP.api('/api/land/rank?year=' + year.value);
      const colors = { A: '#2f855a', B: '#2e86c1', C: '#e67e22', D: '#c0392b', '-': '#95a5a6' };
      const tip = (p) => {
        const perMu = _('tax per mu {tax} · investment per mu {inv}', { tax: GP.fmt(p.data.value[1], 1), inv: GP.fmt(p.data.value[0], 0) });
        return GP.markup(html`${GP.name(p.data.r.enterprise)}<br>${perMu} · ${p.data.r.class}`);
      };
      GP.chart('chart-land', {
        tooltip: { formatter: tip },
        grid: { left: 60, right: 30, top: 30, bottom: 40 },
        xAxis: { type: 'value', name: _('investment per mu (10⁴ yuan/mu)'), nameLocation: 'middle', nameGap: 26 },
        yAxis: { type: 'value', name: _('tax per mu (10⁴ yuan/mu)') },
        series: [{ type: 'scatter', symbolSize: (v, p) => 8 + Math.sqrt(p.data.r.land_mu), data: rows.filter((r) => r.investment_per_mu !== null && r.tax_per_mu !== null).map((r) => ({ value: [r.investment_per_mu, r.tax_per_mu], r, itemStyle: { color: colors[r.class] } })),
          markLine: { symbol: 'none', lineStyle: { color: '#c0392b' }, data: [{ xAxis: 300, label: { formatter: '300' } }, { yAxis: 25, label: { formatter: '25' } }] } }],
      });
      GP.setHTML(document.querySelector('#ld-table tbody'), html`${rows.map((r) => html`<tr><td>${r.rank}</td><td>${GP.name(r.enterprise)}</td><td>${zoneName(r)}</td><td class="num">${GP.fmt(r.land_mu, 0)}</td><td class="num ${r.meets_investment === false ? 'bad' : ''}">${GP.fmt(r.investment_per_mu, 0)}</td><td class="num ${r.meets_tax === false ? 'bad' : ''}">${GP.fmt(r.tax_per_mu, 1)}</td><td class="num">${GP.fmt(r.output_per_mu, 0)}</td><td class="num">${GP.fmt(r.energy_per_mu_tce, 1)}</td><td><b style="color:${colors[r.class]}">${r.class}</b></td></tr>`)}`);
      const idle = await GP.api('/api/land/idle');
      const remaining = idle.days_left >= 0 ? _('{n} days left', { n: idle.days_left }) : _('{n} days overdue', { n: -idle.days_left });
      document.getElementById('ld-idle-title').textContent = _('Idle land to be cleared in three years: by {date} (counted from the start of the plan) {n} parcel(s) and {area} mu are left; {remaining}',
        { date: idle.clear_by, n: idle.parcels_left, area: GP.fmt(idle.area_left_mu, 0), remaining });
      const w = { idle: _('idle'), approved: _('approved, not supplied') };
      const parcel = (p) => {
        const area = _('{area} mu', { area: GP.fmt(p.area_mu, 0) });
        const since = _('{since} ({n} years)', { since: p.since || '', n: p.years_idle ?? '–' });
        return html`<tr class="${p.status === 'disposed' ? 'muted' : ''}"><td>${GP.name(p.code)}</td><td>${p.kind === 'idle' ? w.idle : w.approved}</td><td>${zoneName(p)}</td><td>${GP.name(p.location)}</td><td class="num">${area}</td><td>${since}</td><td>${GP.name(p.disposal_plan)}</td><td>${word(PARCEL_STATUS, p.status)}</td></tr>`;
      };
      GP.setHTML(document.querySelector('#ld-idle tbody'), idle.parcels.map(parcel));
      year.onchange = () => GP.landPage();
      await GP.ready();
    } catch (e) { fail(e); }
  };

  Object.assign(GP.pages, { projects: () => GP.projectsPage(), land: () => GP.landPage() });
})();
