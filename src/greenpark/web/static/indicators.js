/* greenpark indicator scorecard (Table 3.3.1): traffic lights, paths to 2025, reachability text. */
(function () {
  'use strict';
  const GP = window.GP;
  const L = (a, b) => GP.L(a, b);
  const html = GP.html;
  const LIGHT = { met: '#2f855a', at_risk: '#e67e22', missed: '#c0392b', no_data: '#95a5a6' };
  const STATUS = { met: ['达标', 'met'], at_risk: ['有风险', 'at risk'], missed: ['未达标', 'missed'], no_data: ['无数据', 'no data'] };
  const VERDICT = { on_track: ['可实现', 'on track'], at_risk: ['有风险', 'at risk'], off_track: ['难以实现', 'off track'], no_data: ['无法评估', 'no data'] };
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
        { name: L('实际', 'actual'), type: 'line', data: years.map((y) => (hist.find((h) => h[0] === y) || [y, null])[1]), connectNulls: true, itemStyle: { color: '#2e86c1' } },
        { name: L('目标', 'target'), type: 'line', data: years.map((y) => (tgt.find((t) => t[0] === y) || [y, null])[1]), connectNulls: true, lineStyle: { type: 'dashed' }, itemStyle: { color: '#c0392b' },
          markLine: (c.reference_lines || []).length ? { symbol: 'none', silent: true, lineStyle: { color: '#7f8c8d', type: 'dotted' }, label: { show: !!big, formatter: (p) => p.name, fontSize: 10 },
            data: c.reference_lines.map((r) => ({ yAxis: r.value, name: GP.zh() ? r.label_zh : r.label_en })) } : undefined },
      ],
    });
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
          const r = await fetch('/api/indicators/values/import', { method: 'POST', body: new FormData(f), credentials: 'same-origin', headers: { 'X-CSRF-Token': document.body.dataset.csrf } });
          const out = await r.json();
          GP.setHTML(document.getElementById('ind-import-result'), r.ok ? html`<p class="good">${L('已导入', 'Imported')} ${out.rows}</p>`
            : html`<p class="bad">${L('未导入任何数据：', 'Nothing imported:')}</p><ul class="bad">${(out.errors || [{ text: out.detail }]).map((e) => html`<li>${e.text}</li>`)}</ul>`);
          if (r.ok) await GP.indicatorsPage('');
        };
      }
      ['xlsx', 'docx'].forEach((k) => { const a = document.getElementById('ind-' + k); if (a) a.href = `/api/indicators/report.${k}?year=${d.year}`; });
      GP._cards = d.indicators;
      const grid = document.getElementById('ind-grid');
      GP.setHTML(grid, html`${d.indicators.map((c, i) => {
        const r = c.reachability || {};
        const last = c.history.length ? c.history[c.history.length - 1] : null;
        return html`<div class="ind card" data-code="${c.code}" data-status="${c.status}" data-verdict="${r.verdict || 'no_data'}">
          <div class="head"><span class="dot" style="background:${LIGHT[c.status]}"></span><b>${c.code}</b> ${GP.zh() ? c.name : c.name_en}</div>
          <div class="sub">${c.kind === 'binding' ? L('约束性', 'binding') : L('预期性', 'expected')} · ${c.status === 'no_data' && !c.targets.some((t) => t[0] === d.year) ? L('无当年目标', 'no target') : L(...STATUS[c.status])} (${d.year}) · ${L('最新', 'latest')} ${last ? `${GP.fmt(last[1], 3)} (${last[0]})` : '–'} ${c.unit}</div>
          <div class="chart" id="ind-ch-${i}" style="height:120px"></div>
          <div class="sub">${L('2025目标', '2025 target')} ${(c.targets.find((t) => t[0] === 2025) || [0, null, '–'])[2]} · ${L('需年均', 'needs')} ${pct(r.required_rate)} · ${L('实际', 'observed')} ${pct(r.observed_rate)} · <b class="verdict ${r.verdict}">${L(...VERDICT[r.verdict || 'no_data'])}</b></div>
          ${c.flag ? html`<div class="sub warn">⚠ ${c.flag.split(' / ')[GP.zh() ? 0 : 1] || c.flag}</div>` : ''}</div>`;
      })}`);
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
    const text = GP.zh() ? d.text.zh : d.text.en;
    GP.setHTML(box, html`<h2>${d.code} ${GP.zh() ? d.name : d.name_en} (${d.unit})</h2>
      <div class="chart" id="ind-detail-chart" style="height:280px"></div>
      <p><b>${L('可达性分析', 'Reachability')}</b></p><p id="ind-text" class="reach-text">${text}</p>
      <button id="ind-copy">${L('复制文字', 'Copy text')}</button>
      <dl class="meta"><dt>${L('获取方式', 'Obtained')}</dt><dd>${d.method === 'reported' ? L('部门报送', 'reported by a department') : d.formula}</dd>
      <dt>${L('基准', 'Baseline')}</dt><dd>${d.baseline_text || '–'}</dd><dt>${L('来源', 'Source')}</dt><dd>${d.source_ref} · ${d.source}</dd>
      <dt>${L('数据依据', 'Basis')}</dt><dd>${d.basis_note || '–'}</dd>${d.flag ? html`<dt>⚠</dt><dd class="warn">${d.flag}</dd>` : ''}</dl>
      ${d.method === 'reported' && document.body.dataset.staff === '1' ? html`<form id="ind-value-form" class="inline-form">${L('报送', 'Report')} <input name="year" type="number" min="1990" max="2100" value="${new Date().getFullYear() - 1}" title="${L('年份', 'year')}">
        <input name="value" type="number" step="any" required placeholder="${d.unit}"> <input name="source" placeholder="${L('来源部门', 'source')}"> <input name="note" placeholder="${L('说明', 'note')}"> <button>${L('保存', 'Save')}</button> <span id="ind-value-result"></span></form>` : ''}
      <table class="data"><thead><tr><th>${L('年份', 'Year')}</th><th class="num">${L('实际', 'Actual')}</th><th>${L('目标', 'Target')}</th></tr></thead><tbody>
      ${[...new Set([...d.history.map((h) => h.year), ...d.targets.map((t) => t.year)])].sort().map((y) => { const h = d.history.find((x) => x.year === y); const t = d.targets.find((x) => x.year === y); return html`<tr><td>${y}</td><td class="num">${h ? GP.fmt(h.value, 4) : '–'}</td><td>${t ? t.text : ''}</td></tr>`; })}</tbody></table>`);
    const card = (GP._cards || []).find((c) => c.code === code);
    chartOf('ind-detail-chart', { history: d.history.map((h) => [h.year, h.value]), targets: d.targets.map((t) => [t.year, t.value, t.text]), reference_lines: card ? card.reference_lines : [] }, true);
    document.getElementById('ind-copy').onclick = () => navigator.clipboard && navigator.clipboard.writeText(text);
    const vf = document.getElementById('ind-value-form');
    if (vf) vf.onsubmit = async (ev) => {
      ev.preventDefault();
      const fd = new FormData(vf);
      const body = { year: Number(fd.get('year')), value: Number(fd.get('value')), source: fd.get('source'), note: fd.get('note') };
      const r = await fetch(`/api/indicators/${encodeURIComponent(code)}/values`, { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': document.body.dataset.csrf }, body: JSON.stringify(body) });
      const out = await r.json();
      if (!r.ok) { GP.setHTML(document.getElementById('ind-value-result'), html`<span class="bad">${typeof out.detail === 'string' ? out.detail : JSON.stringify(out.detail)}</span>`); return; }
      await GP.indicatorsPage(code);
    };
    box.scrollIntoView();
  };

  GP.pages.indicators = (code) => GP.indicatorsPage(code);
})();
