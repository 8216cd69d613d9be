/* greenpark indicator scorecard (Table 3.3.1): traffic lights, paths to 2025, reachability text. */
(function () {
  'use strict';
  const GP = window.GP;
  // Words come from the catalogue: _ translates an English message id, N_ only marks one (translated
  // where it is shown). Ids are written outside template literals: the extractor skips backticks.
  const _ = GP._;
  const N_ = (s) => s;
  const html = GP.html;
  const LIGHT = { met: '#2f855a', at_risk: '#e67e22', missed: '#c0392b', no_data: '#95a5a6' };
  const STATUS = { met: N_('met'), at_risk: N_('at risk'), missed: N_('missed'), no_data: N_('no data') };
  const VERDICT = { on_track: N_('on track'), at_risk: N_('at risk'), off_track: N_('off track'), no_data: N_('cannot be assessed') };
  const pct = (x) => (x === null || x === undefined ? '–' : (100 * x).toFixed(1) + '%');

  function chartOf(id, c, big) {
    const hist = c.history.map(([y, v]) => [String(y), v]);
    const tgt = c.targets.filter((t) => t[1] !== null).map(([y, v]) => [String(y), v]);
    const years = [...new Set([...hist.map((h) => h[0]), ...tgt.map((t) => t[0])])].sort();
    return GP.chart(id, {
      animation: !!big, grid: big ? { left: 60, right: 20, top: 30, bottom: 30 } : { left: 40, right: 8, top: 8, bottom: 20 },
      tooltip: { trigger: 'axis' }, legend: big ? { top: 0 } : undefined,
      xAxis: { type: 'category', data: years, axisLabel: { fontSize: big ? 12 : 9 } },
      yAxis: { type: 'value', scale: true, axisLabel: { fontSize: big ? 12 : 9 } },
      series: [
        { name: _('Actual'), type: 'line', data: years.map((y) => (hist.find((h) => h[0] === y) || [y, null])[1]), connectNulls: true, itemStyle: { color: '#2e86c1' } },
        { name: _('Target'), type: 'line', data: years.map((y) => (tgt.find((t) => t[0] === y) || [y, null])[1]), connectNulls: true, lineStyle: { type: 'dashed' }, itemStyle: { color: '#c0392b' },
          markLine: (c.reference_lines || []).length ? { symbol: 'none', silent: true, lineStyle: { color: '#7f8c8d', type: 'dotted' }, label: { show: !!big, formatter: (p) => p.name, fontSize: 10 },
            data: c.reference_lines.map((r) => ({ yAxis: r.value, name: GP.zh() ? r.label_zh : r.label_en })) } : undefined },
      ],
    });
  }

  // the result of an import of reported values
  function importResult(ok, out) {
    const w = { imported: _('Imported {n} rows', { n: out.rows }), nothing: _('Nothing imported:') };
    return ok ? html`<p class="good">${w.imported}</p>`
      : html`<p class="bad">${w.nothing}</p><ul class="bad">${(out.errors || [{ text: out.detail }]).map((e) => html`<li>${e.text}</li>`)}</ul>`;
  }

  // the plan's words for a target without a number (quoted as the plan writes them in Chinese)
  const TARGET_TEXT = { '完成下达目标': N_('meet the assigned targets'), '待环保局确认': N_('to be confirmed by the environment bureau') };
  const targetText = (t) => {
    if (TARGET_TEXT[t]) return _(TARGET_TEXT[t]);
    const m = /^([<>≤≥=]*)\s*(-?\d+(?:\.\d+)?)$/.exec(String(t ?? '').trim()); // a number, maybe with a comparison
    return m && Math.abs(Number(m[2])) >= 1000 ? m[1] + GP.fmt(Number(m[2]), 0) : t;
  };
  // the target year has data: the verdict is the outcome, and no yearly change is needed any more
  const FINAL = { on_track: N_('target met'), off_track: N_('target missed') };
  // decimals a value of this unit is shown with
  const digits = (unit, v = 0) => (unit === 'day' || unit === 'count' || Math.abs(v) >= 1000 ? 0 : unit === '%' || unit === '10^8 yuan' ? 2 : 3);
  // a flag is written 'Chinese / English'
  const flagText = (f) => f.split(' / ')[GP.zh() ? 0 : 1] || f;
  // a computed series' source is 'computed: ' and its formula (in Chinese, as the plan writes it);
  // the series come from the inventory, good air days from the monitoring data
  const COMPUTED = 'computed: ';
  const COMPUTED_FROM = { good_air_days: N_('computed by greenpark from the air monitoring data') };
  const sourceText = (s, method) => {
    if (!String(s ?? '').startsWith(COMPUTED)) return GP.name(s);
    const by = COMPUTED_FROM[method] ? _(COMPUTED_FROM[method]) : _('computed by greenpark from the inventory');
    return html`${by}${GP.zh() ? '：' : ': '}${GP.name(s.slice(COMPUTED.length))}`;
  };

  // one card of the scorecard
  function card(c, i, year) {
    const r = c.reachability || {};
    const last = c.history.length ? c.history[c.history.length - 1] : null;
    const latest = last ? `${GP.fmt(last[1], digits(c.unit, last[1]))} (${last[0]})` : '–';
    const verdict = r.verdict || 'no_data';
    const final = r.latest_year >= 2025 && FINAL[verdict];
    const w = {
      kind: c.kind === 'binding' ? _('binding') : _('expected'),
      status: c.status === 'no_data' && c.status_reason === 'text_target' ? _('target in words')
        : c.status === 'no_data' && !c.targets.some((t) => t[0] === year) ? _('no target this year') : _(STATUS[c.status]),
      latest: _('latest {v}', { v: latest }),
      target: _('2025 target {v}', { v: targetText((c.targets.find((t) => t[0] === 2025) || [0, null, '–'])[2]) }),
      needs: final ? '' : _('needs {r} a year', { r: pct(r.required_rate) }),
      observed: _('observed {r} a year', { r: pct(r.observed_rate) }),
      verdict: final ? _(final) : _(VERDICT[verdict]),
    };
    return html`<div class="ind card" data-code="${c.code}" data-status="${c.status}" data-verdict="${verdict}">
          <div class="head"><span class="dot" style="background:${LIGHT[c.status]}"></span><b>${c.code}</b> ${GP.zh() ? c.name : c.name_en}</div>
          <div class="sub">${w.kind} · ${w.status} (${year}) · ${w.latest} ${GP.unit(c.unit)}</div>
          <div class="chart" id="ind-ch-${i}" style="height:120px"></div>
          <div class="sub">${[w.target, w.needs, w.observed].filter(Boolean).join(' · ')} · <b class="verdict ${r.verdict}">${w.verdict}</b></div>
          ${c.flag ? html`<div class="sub warn">⚠ ${flagText(c.flag)}</div>` : ''}</div>`;
  }

  GP.indicatorsPage = async (selected) => {
    try {
      const ySel = document.getElementById('ind-year');
      const d = await GP.api('/api/indicators/scorecard' + (ySel.value ? '?year=' + ySel.value : ''));
      if (!ySel.options.length) {
        GP.setHTML(ySel, html`${[2016, 2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025].map((y) => html`<option ${y === d.year ? 'selected' : ''}>${y}</option>`)}`);
        ySel.onchange = () => GP.indicatorsPage('');
        const f = document.getElementById('ind-import-form');
        if (f) f.onsubmit = async (ev) => {
          ev.preventDefault();
          const r = await GP.fetch('/api/indicators/values/import', { method: 'POST', body: new FormData(f), credentials: 'same-origin', headers: { 'X-CSRF-Token': document.body.dataset.csrf } });
          const out = await r.json();
          GP.setHTML(document.getElementById('ind-import-result'), importResult(r.ok, out));
          if (r.ok) await GP.indicatorsPage('');
        };
      }
      ['xlsx', 'docx'].forEach((k) => { const a = document.getElementById('ind-' + k); if (a) a.href = `/api/indicators/report.${k}?year=${d.year}`; });
      GP._cards = d.indicators;
      GP.illustrative((d.illustrative_years || []).includes(d.year), d.year);
      const grid = document.getElementById('ind-grid');
      GP.setHTML(grid, d.indicators.map((c, i) => card(c, i, d.year)));
      d.indicators.forEach((c, i) => chartOf('ind-ch-' + i, c, false));
      grid.querySelectorAll('.ind').forEach((el) => (el.onclick = () => GP.indicatorDetail(el.dataset.code)));
      if (selected) await GP.indicatorDetail(selected);
      await GP.ready();
    } catch (e) {
      const box = document.getElementById('page-error'); box.hidden = false; box.textContent = e.message; document.body.dataset.ready = '1';
    }
  };

  GP.indicatorDetail = async (code) => {
    const d = await GP.api('/api/indicators/' + encodeURIComponent(code));
    const box = document.getElementById('ind-detail'); box.hidden = false;
    // a reported value keeps its history (who reported what, when, in place of what): for signed-in users
    const kept = d.method === 'reported' && document.body.dataset.signedIn === '1';
    const text = GP.zh() ? d.text.zh : d.text.en;
    const w = {
      reach: _('Reachability analysis'), copy: _('Copy text'), obtained: _('How obtained'), reported: _('reported by a department'), baseline: _('Baseline'),
      source: _('Source'), basis: _('Data basis'), report: _('Report'), year: _('Year'), sourceDept: _('source department'), note: _('Note'), save: _('Save'),
      actual: _('Actual'), target: _('Target'), history: _('History'),
    };
    GP.setHTML(box, html`<h2>${d.code} ${GP.zh() ? d.name : d.name_en} (${GP.unit(d.unit)})</h2>
      <div class="chart" id="ind-detail-chart" style="height:280px"></div>
      <p><b>${w.reach}</b></p><p id="ind-text" class="reach-text">${text}</p>
      <button id="ind-copy">${w.copy}</button>
      <dl class="meta"><dt>${w.obtained}</dt><dd>${d.method === 'reported' ? w.reported : d.formula}</dd>
      <dt>${w.baseline}</dt><dd>${d.baseline_text ? GP.name(d.baseline_text) : '–'}</dd><dt>${w.source}</dt><dd>${GP.name(d.source_ref)} · ${sourceText(d.source, d.method)}</dd>
      <dt>${w.basis}</dt><dd>${d.basis_note ? GP.name(d.basis_note) : '–'}</dd>${d.flag ? html`<dt>⚠</dt><dd class="warn">${flagText(d.flag)}</dd>` : ''}</dl>
      ${d.method === 'reported' && document.body.dataset.staff === '1' ? html`<form id="ind-value-form" class="inline-form">${w.report} <input name="year" type="number" min="1990" max="2100" value="${new Date().getFullYear() - 1}" title="${w.year}">
        <input name="value" type="number" step="any" required placeholder="${GP.unit(d.unit)}"> <input name="source" placeholder="${w.sourceDept}"> <input name="note" placeholder="${w.note}"> <button>${w.save}</button> <span id="ind-value-result"></span></form>` : ''}
      <table class="data" id="ind-values"><thead><tr><th>${w.year}</th><th class="num">${w.actual}</th><th>${w.target}</th>${kept ? html`<th></th>` : ''}</tr></thead><tbody>
      ${[...new Set([...d.history.map((h) => h.year), ...d.targets.map((t) => t.year)])].sort().map((y) => { const h = d.history.find((x) => x.year === y); const t = d.targets.find((x) => x.year === y); return html`<tr data-year="${y}"><td>${y}</td><td class="num">${h ? GP.fmt(h.value, digits(d.unit, h.value)) : '–'}</td><td>${t ? targetText(t.text) : ''}</td>${kept ? html`<td>${h ? html`<button type="button" class="secondary history-btn" data-entity="indicator_value" data-key="${d.code}|${y}">${w.history}</button>` : ''}</td>` : ''}</tr>`; })}</tbody></table>`);
    GP.historyButtons(box);
    const card = (GP._cards || []).find((c) => c.code === code);
    chartOf('ind-detail-chart', { history: d.history.map((h) => [h.year, h.value]), targets: d.targets.map((t) => [t.year, t.value, t.text]), reference_lines: card ? card.reference_lines : [] }, true);
    document.getElementById('ind-copy').onclick = () => navigator.clipboard && navigator.clipboard.writeText(text);
    const vf = document.getElementById('ind-value-form');
    if (vf) vf.onsubmit = async (ev) => {
      ev.preventDefault();
      const fd = new FormData(vf);
      const body = { year: Number(fd.get('year')), value: Number(fd.get('value')), source: fd.get('source'), note: fd.get('note') };
      const r = await GP.fetch(`/api/indicators/${encodeURIComponent(code)}/values`, { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': document.body.dataset.csrf }, body: JSON.stringify(body) });
      const out = await r.json();
      if (!r.ok) { GP.setHTML(document.getElementById('ind-value-result'), html`<span class="bad">${typeof out.detail === 'string' ? out.detail : JSON.stringify(out.detail)}</span>`); return; }
      await GP.indicatorsPage(code);
    };
    box.scrollIntoView();
  };

  GP.importResult = importResult; // the roadmap's sink import shows its result the same way
  GP.pages.indicators = (code) => GP.indicatorsPage(code);
})();
