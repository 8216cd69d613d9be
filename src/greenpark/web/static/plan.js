/* greenpark: the plan's projects and tasks, and land-use intensity pages. */
(function () {
  'use strict';
  const GP = window.GP;
  const L = (a, b) => GP.L(a, b);
  const html = GP.html;
  const STATUS = { not_started: ['未开工', 'not started'], in_progress: ['在建', 'in progress'], done: ['已完成', 'done'], suspended: ['暂停', 'suspended'] };
  const COND = { overdue: ['超期', 'overdue'], behind: ['滞后', 'behind'], stalled: ['停滞', 'stalled'] };
  function fail(e) { const b = document.getElementById('page-error'); b.hidden = false; b.textContent = /401/.test(e.message) ? L('请先登录', 'Please log in') : /403/.test(e.message) ? L('无权查看', 'Not allowed') : e.message; document.body.dataset.ready = '1'; }

  GP.projectsPage = async () => {
    try {
      const d = await GP.api('/api/projects');
      const ps = d.projects;
      GP.chart('chart-projects', {
        tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 60, right: 20, top: 30, bottom: 20 },
        yAxis: { type: 'category', inverse: true, data: ps.map((p) => '#' + p.seq) }, xAxis: { type: 'value', max: 100, name: '%' },
        series: [
          { name: L('计划进度', 'planned'), type: 'bar', data: ps.map((p) => (p.planned_percent === null ? 0 : Math.round(p.planned_percent))), itemStyle: { color: '#d5dbdb' }, barGap: '-100%' },
          { name: L('实际进度', 'actual'), type: 'bar', data: ps.map((p) => ({ value: p.percent, itemStyle: { color: p.condition.length ? '#c0392b' : '#2f855a' } })), barWidth: '45%' },
        ],
      });
      const tb = document.querySelector('#pj-table tbody');
      GP.setHTML(tb, html`${ps.map((p) => html`<tr class="clickable" data-seq="${p.seq}"><td>${p.seq}</td><td>${p.name}${p.flag ? html`<br><span class="note warn">⚠ ${p.flag_text}</span>` : ''}</td><td>${p.owner}</td><td class="num">${GP.fmt(p.investment_10k_yuan, 0)}</td><td>${p.planned_start || '–'} → ${p.planned_end || '–'}</td><td>${L(...STATUS[p.status])} ${GP.join(p.condition.map((c) => html`<span class="status unconfirmed">${L(...COND[c])}</span>`), ' ')}</td><td class="num">${GP.fmt(p.percent, 0)}</td><td><button class="pj-open">${L('详情', 'Details')}</button></td></tr>`)}`);
      tb.querySelectorAll('tr').forEach((tr) => (tr.onclick = () => GP.projectDetail(Number(tr.dataset.seq), ps.find((x) => x.seq === Number(tr.dataset.seq)))));
      const tasks = await GP.api('/api/projects/tasks');
      GP.setHTML(document.getElementById('pj-tasks'), html`${tasks.map((g) => html`<h3>${g.seq}. ${g.name}</h3>${g.actions.map((a) => html`<details><summary>${a.name} (${a.measures.length})</summary><ul>${a.measures.map((m) => html`<li><b>${m.name}</b> — ${m.text} <span class="note">${m.departments.join('、')}</span></li>`)}</ul></details>`)}`)}`);
      await GP.ready();
    } catch (e) { fail(e); }
  };

  GP.projectDetail = async (seq, p) => {
    const box = document.getElementById('pj-detail'); box.hidden = false;
    const hist = await GP.api(`/api/projects/${seq}/history`);
    const staff = document.body.dataset.staff === '1';
    GP.setHTML(box, html`<h2>#${seq} ${p.name}</h2><p>${p.content}</p><p class="note">${p.benefit}</p>
      <table class="data" id="pj-history"><thead><tr><th>${L('日期', 'Date')}</th><th>${L('状态', 'Status')}</th><th class="num">%</th><th class="num">${L('已投资（万元）', 'Spent')}</th><th>${L('节点', 'Milestone')}</th><th>${L('说明', 'Note')}</th><th>${L('报送人', 'By')}</th><th></th></tr></thead><tbody>
      ${hist.length ? hist.map((h) => html`<tr><td>${h.on}</td><td>${L(...STATUS[h.status])}</td><td class="num">${h.percent}</td><td class="num">${GP.fmt(h.spent_10k_yuan, 0)}</td><td>${h.milestone}</td><td>${h.note}</td><td>${h.by}</td><td>${h.attachment}</td></tr>`) : html`<tr><td colspan="8" class="note">${L('尚无进度报送', 'No reports yet')}</td></tr>`}</tbody></table>
      ${staff ? html`<form id="pj-form" class="inline-form"><select name="status">${Object.keys(STATUS).map((s) => html`<option value="${s}" ${s === p.status ? 'selected' : ''}>${L(...STATUS[s])}</option>`)}</select>
        <input name="percent" type="number" min="0" max="100" step="1" value="${p.percent}" title="%"> <input name="spent_10k_yuan" type="number" min="0" step="any" value="${p.spent_10k_yuan}" title="${L('已投资（万元）', 'spent')}">
        <input name="on" type="date"> <input name="milestone" placeholder="${L('节点', 'milestone')}"> <input name="note" placeholder="${L('说明', 'note')}"> <input name="attachment" type="file"> <button>${L('报送进度', 'Report progress')}</button></form><p id="pj-form-result"></p>` : ''}`);
    const f = document.getElementById('pj-form');
    if (f) f.onsubmit = async (ev) => {
      ev.preventDefault();
      const fd = new FormData(f); if (!fd.get('attachment') || !fd.get('attachment').size) fd.delete('attachment');
      const r = await fetch(`/api/projects/${seq}/updates`, { method: 'POST', body: fd, credentials: 'same-origin', headers: { 'X-CSRF-Token': document.body.dataset.csrf } });
      const d = await r.json();
      GP.setHTML(document.getElementById('pj-form-result'), r.ok ? html`<span class="good">${L('已报送', 'Recorded')}</span>` : html`<span class="bad">${d.detail}</span>`);
      if (r.ok) { await GP.projectsPage(); await GP.projectDetail(seq, d.project); }
    };
    box.scrollIntoView();
  };

  GP.landPage = async () => {
    try {
      const year = document.getElementById('ld-year');
      const rows = await GP.api('/api/land/rank?year=' + year.value);
      const colors = { A: '#2f855a', B: '#2e86c1', C: '#e67e22', D: '#c0392b', '-': '#95a5a6' };
      GP.chart('chart-land', {
        tooltip: { formatter: (p) => GP.markup(html`${p.data.r.enterprise}<br>${L('亩均税收', 'tax/mu')} ${GP.fmt(p.data.value[1], 1)} · ${L('亩均投资', 'investment/mu')} ${GP.fmt(p.data.value[0], 0)} · ${p.data.r.class}`) },
        grid: { left: 60, right: 30, top: 30, bottom: 40 },
        xAxis: { type: 'value', name: L('亩均投资（万元/亩）', 'investment (10^4 yuan/mu)'), nameLocation: 'middle', nameGap: 26 },
        yAxis: { type: 'value', name: L('亩均税收（万元/亩）', 'tax (10^4 yuan/mu)') },
        series: [{ type: 'scatter', symbolSize: (v, p) => 8 + Math.sqrt(p.data.r.land_mu), data: rows.filter((r) => r.investment_per_mu !== null && r.tax_per_mu !== null).map((r) => ({ value: [r.investment_per_mu, r.tax_per_mu], r, itemStyle: { color: colors[r.class] } })),
          markLine: { symbol: 'none', lineStyle: { color: '#c0392b' }, data: [{ xAxis: 300, label: { formatter: '300' } }, { yAxis: 25, label: { formatter: '25' } }] } }],
      });
      GP.setHTML(document.querySelector('#ld-table tbody'), html`${rows.map((r) => html`<tr><td>${r.rank}</td><td>${r.enterprise}</td><td>${r.zone || ''}</td><td class="num">${GP.fmt(r.land_mu, 0)}</td><td class="num ${r.meets_investment === false ? 'bad' : ''}">${GP.fmt(r.investment_per_mu, 0)}</td><td class="num ${r.meets_tax === false ? 'bad' : ''}">${GP.fmt(r.tax_per_mu, 1)}</td><td class="num">${GP.fmt(r.output_per_mu, 0)}</td><td class="num">${GP.fmt(r.energy_per_mu_tce, 1)}</td><td><b style="color:${colors[r.class]}">${r.class}</b></td></tr>`)}`);
      const idle = await GP.api('/api/land/idle');
      document.getElementById('ld-idle-title').textContent = L(`闲置土地“三年清零”：截至 ${idle.clear_by}（按方案起始年推算）尚余 ${idle.parcels_left} 宗、${GP.fmt(idle.area_left_mu, 0)} 亩，${idle.days_left >= 0 ? '剩余 ' + idle.days_left + ' 天' : '已超期 ' + (-idle.days_left) + ' 天'}`,
        `Idle land "cleared in three years": by ${idle.clear_by} (assumed from the plan's start) ${idle.parcels_left} parcel(s), ${GP.fmt(idle.area_left_mu, 0)} mu left; ${idle.days_left >= 0 ? idle.days_left + ' days left' : (-idle.days_left) + ' days overdue'}`);
      GP.setHTML(document.querySelector('#ld-idle tbody'), html`${idle.parcels.map((p) => html`<tr class="${p.status === 'disposed' ? 'muted' : ''}"><td>${p.code}</td><td>${p.kind === 'idle' ? L('闲置', 'idle') : L('批而未供', 'approved, not supplied')}</td><td>${p.zone || ''}</td><td>${p.location}</td><td class="num">${GP.fmt(p.area_mu, 0)} ${L('亩', 'mu')}</td><td>${p.since || ''} (${p.years_idle ?? '–'} ${L('年', 'y')})</td><td>${p.disposal_plan}</td><td>${p.status}</td></tr>`)}`);
      year.onchange = () => GP.landPage();
      await GP.ready();
    } catch (e) { fail(e); }
  };

  Object.assign(GP.pages, { projects: () => GP.projectsPage(), land: () => GP.landPage() });
})();
