/* greenpark parks overview: every park's energy, CO₂, intensity against its targets, indicators at
   risk and open alarms (/api/parks/overview), a table and a bar chart, for a bureau. */
(function () {
  'use strict';
  const GP = window.GP;
  const _ = GP._;
  const N_ = (s) => s;
  const html = GP.html;
  const STATUS = { met: N_('met'), at_risk: N_('at risk'), missed: N_('missed'), no_data: N_('no data') };
  const VERDICT = { on_track: N_('on track'), at_risk: N_('at risk'), off_track: N_('off track'), no_data: N_('cannot be assessed') };
  const SEVERITY = { critical: N_('critical'), warning: N_('warning'), info: N_('notice') };
  // the scorecard's colours (indicators.js), so a status looks the same on every page
  const LIGHT = { met: '#2f855a', on_track: '#2f855a', at_risk: '#e67e22', missed: '#c0392b', off_track: '#c0392b', no_data: '#95a5a6' };
  const badge = (code, words) => html`<span class="status" style="background:${LIGHT[code] || LIGHT.no_data};color:#fff;white-space:nowrap">${_(words[code] || words.no_data)}</span>`;
  const name = (o) => (GP.zh() ? o.name_zh : o.name_en || o.name_zh);

  // where a park's name leads: its cockpit, through the park switcher for those who may switch
  const cockpitOf = (code, maySwitch) => (maySwitch ? '/park?' + new URLSearchParams({ park: code, next: '/?scope=park' }) : '/?scope=park'); // the overview's figures are the whole park's

  function intensityCell(r) {
    const it = r.intensity;
    const w = {
      target: it.target ? _('target {year}: {v}', { year: it.target.year, v: GP.fmt(it.target.value, 3) }) : _('no target this year'),
      final: it.final_target ? _('final target {year}: {v}', { year: it.final_target.year, v: GP.fmt(it.final_target.value, 3) }) : '',
      toFinal: it.final_target ? _('to {year}:', { year: it.final_target.year }) : '',
    };
    if (it.value === null) return r.year === null ? '–' : html`–<br><span class="note">${w.target}</span>`;
    const verdict = it.final_target ? html`<br><span class="note">${w.toFinal}</span> ${badge(it.verdict, VERDICT)}` : '';
    return html`<b>${GP.fmt(it.value, 3)}</b> ${it.target ? badge(it.status, STATUS) : ''}<br><span class="note">${w.target}${w.final && it.final_target.year !== (it.target || {}).year ? html` · ${w.final}` : ''}</span>${verdict}`;
  }

  function indicatorsCell(r) {
    const ind = r.indicators;
    if (!ind.total) return html`<span class="note">${_('no indicators')}</span>`;
    const count = _('{n} of {total} indicators', { n: ind.at_risk.length, total: ind.total });
    const items = ind.at_risk.map((x) => html`<li><span translate="no">${x.code}</span> <span translate="no">${name(x)}</span></li>`);
    return html`<b>${count}</b>${items.length ? html`<ul class="checks">${items}</ul>` : ''}`;
  }

  function alarmsCell(r) {
    const a = r.open_alarms;
    const parts = Object.entries(a.by_severity).filter(([, n]) => n > 0).map(([s, n]) => html` <span class="status ${s}" style="white-space:nowrap">${_(SEVERITY[s] || s)} ${n}</span>`);
    return html`<b>${GP.fmt(a.total, 0)}</b>${parts.length ? html`<br>${parts}` : ''}`;
  }

  function notesCell(r) {
    const lang = GP.zh() ? 'zh' : 'en';
    const reasons = [...new Set(Object.values(r.missing))].map((c) => (r.reasons[c] || {})[lang] || c);
    const w = {
      boundary: r.boundary === 'above_scale' ? _('Energy and CO₂ of above-scale industry: the only boundary with a split by carrier.') : '',
      sets: Object.keys(r.factor_sets).length ? _('Factor sets') : '',
    };
    const sets = Object.entries(r.factor_sets).map(([k, v]) => `${k} v${v}`).join(', ');
    return html`${reasons.map((t) => html`<div class="warn">${t}</div>`)}${r.error ? html`<div class="warn" translate="no">${r.error}</div>` : ''}${w.boundary ? html`<div class="note">${w.boundary}</div>` : ''}${sets ? html`<div class="note">${w.sets}: <span translate="no">${sets}</span></div>` : ''}`;
  }

  function row(r, maySwitch) {
    const w = { open: _("Open this park's cockpit") };
    const year = r.year === null ? '–' : `${r.year}${r.illustrative ? '*' : ''}`;
    const it = r.intensity;
    return html`<tr data-park="${r.code}">
      <td><a href="${cockpitOf(r.code, maySwitch)}" title="${w.open}" class="park-link"><span translate="no">${name(r)}</span></a><br><span class="note" translate="no">${r.code}</span></td>
      <td class="num" data-sort="${r.year ?? ''}">${year}</td>
      <td class="num" data-sort="${r.energy_tce_calorific ?? ''}" data-export="${r.energy_tce_calorific === null ? '' : r.energy_tce_calorific / 1e4}">${GP.fmt(r.energy_tce_calorific === null ? null : r.energy_tce_calorific / 1e4, 2)}</td>
      <td class="num" data-sort="${r.co2_t ?? ''}" data-export="${r.co2_t === null ? '' : r.co2_t / 1e4}">${GP.fmt(r.co2_t === null ? null : r.co2_t / 1e4, 2)}</td>
      <td data-sort="${it.value ?? ''}" data-export="${it.value ?? ''}">${intensityCell(r)}</td>
      <td data-sort="${r.indicators.at_risk.length}" data-export="${r.indicators.at_risk.map((x) => x.code).join(', ')}">${indicatorsCell(r)}</td>
      <td class="num" data-sort="${r.open_alarms.total}" data-export="${r.open_alarms.total}">${alarmsCell(r)}</td>
      <td>${notesCell(r)}</td>
    </tr>`;
  }

  // intensity against the target of its year and the final target, one bar group per park
  function drawChart(rows) {
    const shown = rows.filter((r) => r.intensity.value !== null || r.intensity.target || r.intensity.final_target);
    const el = document.getElementById('chart-parks');
    const note = document.getElementById('chart-parks-note');
    note.textContent = shown.length ? '' : _('No park has an energy intensity or a target yet.');
    el.hidden = !shown.length;
    if (!shown.length) return;
    el.style.height = `${Math.max(240, 90 + 70 * shown.length)}px`;
    const unit = _('tce/10⁴ yuan');
    const s = { actual: _('Actual'), target: _('Target of the year'), final: _('Final target') };
    const parks = shown.map((r) => name(r));
    const val = (t) => (t ? t.value : null);
    GP.chart('chart-parks', {
      tooltip: {
        trigger: 'axis', axisPointer: { type: 'shadow' },
        formatter: (ps) => GP.markup(html`<span translate="no">${ps[0].name}</span>${ps.filter((p) => p.value !== null && p.value !== undefined).map((p) => html`<br>${p.seriesName}: ${GP.fmt(p.value, 3)} ${unit}`)}`),
      },
      legend: { top: 0 },
      grid: { left: 16, right: 40, top: 36, bottom: 30, containLabel: true },
      xAxis: { type: 'value', name: unit, nameLocation: 'middle', nameGap: 26, min: 0 },
      yAxis: { type: 'category', data: parks, inverse: true, axisLabel: { width: 220, overflow: 'break' } },
      series: [
        { name: s.actual, type: 'bar', barMaxWidth: 22, data: shown.map((r) => r.intensity.value), itemStyle: { color: '#1d6b4f' },
          label: { show: true, position: 'right', formatter: (p) => GP.fmt(p.value, 3) } },
        { name: s.target, type: 'bar', barMaxWidth: 22, data: shown.map((r) => val(r.intensity.target)), itemStyle: { color: '#e67e22', opacity: 0.55 } },
        { name: s.final, type: 'scatter', symbol: 'diamond', symbolSize: 14, data: shown.map((r) => val(r.intensity.final_target)), itemStyle: { color: '#8e44ad' } },
      ],
    });
  }

  GP.parksPage = async function (maySwitch) {
    const table = document.getElementById('parks-table');
    const body = table.tBodies[0];
    let rows;
    try {
      rows = await GP.api('/api/parks/overview');
    } catch (e) {
      GP.setHTML(body, html`<tr class="empty"><td colspan="8" class="warn">${e.message}</td></tr>`);
      document.body.dataset.ready = '1';
      return;
    }
    GP.parks = rows;
    GP.setHTML(body, rows.length ? rows.map((r) => row(r, maySwitch)) : html`<tr class="empty"><td colspan="8" class="note">${_('No data')}</td></tr>`);
    GP.table(table);
    const note = document.getElementById('parks-illustrative');
    note.hidden = !rows.some((r) => r.illustrative);
    note.textContent = note.hidden ? '' : _('* The figures of that year are an illustrative continuation: made up for the demo, not published or reported; imported data replace them.');
    drawChart(rows);
    await GP.ready();
  };

  GP.pages.parks = (arg) => GP.parksPage(arg === '1');
})();
