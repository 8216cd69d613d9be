/* greenpark pages: fetch the JSON API and draw with Apache ECharts (served by the app). */
(function () {
  'use strict';
  const GP = (window.GP = { charts: {}, pages: {} });

  // ---------------------------------------------------------------- the one escaping rule
  // Markup is written only with the tagged template GP.html`…`: every ${value} in it is escaped
  // (text, attribute values alike) unless the value is itself the result of GP.html (or an array
  // of such results). Markup reaches the page only through GP.setHTML / GP.addHTML, which take a
  // GP.html result or an array of them (anything else in the array is escaped) and put any other
  // value in as text. Plain values go in with textContent.
  class SafeHTML {
    constructor(s) { this.s = s; }
    toString() { return this.s; }
  }
  const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };
  const escapeText = (v) => String(v).replace(/[&<>"'`]/g, (c) => ESC[c]);
  const part = (v) => {
    if (v === null || v === undefined || v === false) return '';
    if (v instanceof SafeHTML) return v.s;
    if (Array.isArray(v)) return v.map(part).join('');
    return escapeText(v);
  };
  GP.html = (strings, ...values) => new SafeHTML(strings.reduce((out, s, i) => out + s + (i < values.length ? part(values[i]) : ''), ''));
  GP.setHTML = (el, safe) => {
    if (!el) return;
    if (safe instanceof SafeHTML || Array.isArray(safe)) el.innerHTML = part(safe); // the only innerHTML assignment in greenpark
    else el.textContent = safe === null || safe === undefined ? '' : String(safe);
  };
  GP.addHTML = (el, safe, where = 'beforeend') => {
    if (!el) return;
    if (safe instanceof SafeHTML || Array.isArray(safe)) el.insertAdjacentHTML(where, part(safe)); // …and the only insertAdjacentHTML
    else el.insertAdjacentText(where, String(safe));
  };
  // for ECharts tooltip formatters, which must return a string of markup
  GP.markup = (safe) => (safe instanceof SafeHTML ? safe.s : escapeText(safe ?? ''));

  // A page names its script entry in <body data-page="…" data-arg="…">; no inline script anywhere
  // (the Content-Security-Policy forbids it).
  document.addEventListener('DOMContentLoaded', () => {
    const b = document.body;
    // the park switcher: choosing a park is enough (its button is for pages without script)
    const parkSel = document.getElementById('park-switch');
    if (parkSel) {
      parkSel.form.classList.add('auto');
      parkSel.addEventListener('change', () => parkSel.form.submit());
    }
    const run = GP.pages[b.dataset.page];
    if (run) run(b.dataset.arg || '');
    else b.dataset.ready = '1';
  });
  // Every word comes from the catalogue: GP._(msgid, params) gives the English msgid in the page's
  // language (the catalogue is /i18n/<lang>.js, the same as the pages'); {name} fields are filled in.
  const MESSAGES = window.GP_MESSAGES || {};
  GP._ = (msgid, params) => {
    const text = Object.prototype.hasOwnProperty.call(MESSAGES, msgid) ? MESSAGES[msgid] : msgid;
    return params ? text.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m)) : text;
  };
  // Message ids: a plain string literal as the first argument of _ or N_, in a call written OUTSIDE
  // any template literal: the extractor that builds the catalogue (greenpark.i18n.update) does not
  // look inside backticks, so words are put in variables before the GP.html template that shows them.
  const _ = GP._;
  // Names for the codes greenpark keeps, from the server's tables (greenpark.i18n.labels):
  // GP.label('parameter', 'ncv'), GP.unit('10^4 kWh') → 万千瓦时; an unknown code stays as it is.
  const LABELS = window.GP_LABELS || {};
  GP.label = (table, code) => {
    const t = LABELS[table] || {};
    return code !== null && code !== undefined && Object.prototype.hasOwnProperty.call(t, code) ? t[code] : (code ?? '');
  };
  GP.unit = (u) => GP.label('unit', u);
  // Data (a name, a code, a note someone wrote, a file name) is shown as it is, in any language:
  // it is marked translate="no" (as the HTML standard means it), and the language check skips it.
  GP.name = (text) => GP.html`<span translate="no">${text}</span>`;
  const lang = () => document.body.dataset.lang || 'zh';
  const zh = () => lang() === 'zh';
  const html = GP.html;
  // items separated by sep (both escaped unless GP.html results), e.g. GP.join(lines, GP.html`<br>`)
  GP.join = (items, sep = '') => html`${items.map((x, i) => (i ? html`${sep}${x}` : html`${x}`))}`;
  const nf = (d) => new Intl.NumberFormat(zh() ? 'zh-CN' : 'en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  GP.fmt = (v, d = 0) => (v === null || v === undefined || Number.isNaN(v) ? '–' : nf(d).format(v));
  GP.pct = (v, d = 1) => (v === null || v === undefined ? '–' : nf(d).format(v * 100) + '%');
  // a list in running text: 'a, b, c' in English, 'a、b、c' in Chinese
  GP.list = (items) => items.join(_(', '));
  // A stored UTC time as people in the park read it: Beijing time (UTC+8, no summer time),
  // "2026-12-04 02:09"; a time written without a zone is UTC (the API's convention).
  GP.when = (iso) => {
    if (!iso) return '–';
    const s = String(iso);
    const t = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`);
    if (Number.isNaN(t.getTime())) return s;
    return new Date(t.getTime() + 8 * 3600e3).toISOString().slice(0, 16).replace('T', ' ');
  };
  GP.whenDay = (iso) => (iso ? GP.when(iso).slice(0, 10) : '–');
  // Every request of a page: same-origin cookies, the page's language for the answer's messages, and
  // (for writes) the session's CSRF token.
  GP.fetch = (url, opts = {}) => {
    const headers = { 'Accept-Language': lang(), ...(opts.headers || {}) };
    if (opts.method && opts.method !== 'GET') headers['X-CSRF-Token'] = document.body.dataset.csrf;
    return fetch(url, { credentials: 'same-origin', ...opts, headers });
  };
  GP.api = async (url) => {
    const r = await GP.fetch(url, { headers: { Accept: 'application/json' } });
    if (!r.ok) { const e = new Error(url + ': ' + r.status); e.status = r.status; throw e; }
    return r.json();
  };
  const palette = ['#2e86c1', '#f1c40f', '#e67e22', '#1d6b4f', '#8e44ad', '#c0392b', '#16a085', '#7f8c8d'];
  const rendering = [];
  function chart(id, option) {
    const el = document.getElementById(id);
    if (!el) return null;
    let c = echarts.getInstanceByDom(el) || echarts.init(el, null, { renderer: 'canvas' });
    // resolves when ECharts has drawn everything, animations included
    rendering.push(new Promise((resolve) => { c.off('finished'); c.on('finished', resolve); setTimeout(resolve, 5000); }));
    c.setOption(option, true);
    GP.charts[id] = c;
    return c;
  }
  // Mark the page ready once every chart has finished drawing (tests and screenshots wait for it).
  async function ready() {
    await Promise.all(rendering.splice(0));
    document.body.dataset.ready = '1';
  }
  // Resize after the window settles, and on the next frame: never in the middle of a render.
  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => requestAnimationFrame(() => Object.values(GP.charts).forEach((c) => c.resize())), 150);
  });
  const name = (o) => (zh() ? o.name_zh : o.name_en);
  // the status of a factor or a parameter (the codes of the factor sets)
  const N_ = (s) => s;
  const FACTOR_STATUS = { confirmed: N_('confirmed'), secondary: N_('secondary source'), unconfirmed: N_('unconfirmed'), assumed: N_('assumed'), derived: N_('derived') };
  GP.factorStatus = (s) => (FACTOR_STATUS[s] ? _(FACTOR_STATUS[s]) : s);
  // shared with the other page scripts
  Object.assign(GP, { chart, ready, zh, palette, fillSelect });

  // Says so when the figures shown rest on illustrative (made-up demo) data of ``year``.
  GP.illustrative = (made, year) => {
    const el = document.getElementById('illustrative-note');
    if (!el) return;
    el.hidden = !made;
    el.textContent = made ? _('The figures of {year} are an illustrative continuation: made up for the demo, not published or reported; imported data replace them.', { year }) : '';
  };

  // The history of a record, or of an enterprise's records (query: {entity, key} or {enterprise_id}):
  // who changed what, when, from what to what, in which batch, and the workbook to download.
  GP.history = async function (box, query) {
    const w = {
      title: _('Change history'), when: _('When'), who: _('Who'), action: _('Action'), record: _('Record'), field: _('Field'),
      from: _('From'), to: _('To'), batch: _('Batch'), none: _('No changes recorded yet'), xlsx: _('Download (xlsx)'), csv: _('Download (CSV)'),
    };
    let rows;
    try { rows = await GP.api('/api/history?' + new URLSearchParams(query)); } catch (e) { GP.setHTML(box, html`<p class="note bad">${e.message}</p>`); return; }
    const link = (ext) => `/api/history.${ext}?` + new URLSearchParams({ ...query, lang: lang() });
    const when = (t) => new Date(t).toLocaleString(zh() ? 'zh-CN' : 'en-GB');
    const many = !query.key; // an enterprise's history names each record
    GP.setHTML(box, html`<div class="history"><p><b>${w.title}</b> · <a href="${link('xlsx')}" download>${w.xlsx}</a> · <a href="${link('csv')}" download>${w.csv}</a></p>
      ${rows.length ? html`<table class="data history-table" data-table="sort page"><thead><tr><th>${w.when}</th><th>${w.who}</th><th>${w.action}</th>${many ? html`<th>${w.record}</th>` : ''}<th>${w.field}</th><th>${w.from}</th><th>${w.to}</th><th>${w.batch}</th></tr></thead>
      <tbody>${rows.map((r) => html`<tr data-id="${r.id}"><td data-sort="${r.at_utc}">${when(r.at_utc)}</td><td>${GP.name(r.actor)}</td><td>${r.action_label}</td>${many ? html`<td>${r.entity_label} ${GP.name(r.key)}</td>` : ''}<td>${r.field_label}</td><td class="old">${GP.name(r.old_text)}</td><td class="new">${GP.name(r.new_text)}</td><td>${r.batch_label !== r.batch ? r.batch_label : GP.name(r.batch)}</td></tr>`)}</tbody></table>`
      : html`<p class="note">${w.none}</p>`}</div>`);
    const t = box.querySelector('table.history-table');
    if (t && GP.table) GP.table(t);
  };
  // Wires the "history" buttons in root: <button class="history-btn" data-entity data-key> (or
  // data-enterprise-id, data-target: the box to fill). In a table row the history opens as the row
  // below it; a second click closes it.
  GP.historyButtons = (root) => root.querySelectorAll('button.history-btn').forEach((b) => {
    b.setAttribute('aria-expanded', 'false');
    b.onclick = async () => {
      const query = b.dataset.enterpriseId ? { enterprise_id: b.dataset.enterpriseId } : { entity: b.dataset.entity, key: b.dataset.key };
      const open = b.getAttribute('aria-expanded') === 'true';
      const tr = b.closest('tr');
      let box;
      if (tr) {
        const next = tr.nextElementSibling;
        if (next && next.classList.contains('history-row')) next.remove();
        if (open) { b.setAttribute('aria-expanded', 'false'); return; }
        const row = document.createElement('tr'); row.className = 'history-row';
        box = document.createElement('td'); box.colSpan = tr.cells.length; row.appendChild(box); tr.after(row);
      } else {
        box = document.getElementById(b.dataset.target);
        if (!box) return;
        box.hidden = open; box.replaceChildren();
        if (open) { b.setAttribute('aria-expanded', 'false'); return; }
      }
      b.setAttribute('aria-expanded', 'true');
      await GP.history(box, query);
    };
  });

  function setKpi(id, value, digits) {
    const el = document.getElementById(id);
    if (!el) return;
    el.dataset.value = value === null || value === undefined ? '' : String(value);
    el.textContent = GP.fmt(value, digits);
  }

  // items: {value, label, name}; name: true marks the label as data (a name, a code: translate="no")
  function fillSelect(sel, items, current) {
    sel.replaceChildren();
    for (const it of items) {
      const o = document.createElement('option');
      o.value = it.value; o.textContent = it.label; if (String(it.value) === String(current)) o.selected = true;
      if (it.name) o.setAttribute('translate', 'no');
      sel.appendChild(o);
    }
  }

  function fillChecks(ul, checks) {
    ul.replaceChildren();
    for (const c of checks) { const li = document.createElement('li'); li.className = c.severity; li.textContent = zh() ? c.message_zh : c.message_en; ul.appendChild(li); }
  }

  function sankeyOption(flows, byCarrier, bySector) {
    const nodes = new Map();
    const total = _('Total final use');
    const tce = _('tce');
    const label = (k) => {
      if (k === '_total') return total;
      const c = byCarrier.find((r) => r.carrier === k); if (c) return name(c);
      const s = bySector.find((r) => r.sector === k); if (s) return name(s);
      return k;
    };
    const colorOf = (k) => { const c = byCarrier.find((r) => r.carrier === k); return c ? c.color : (k === '_total' ? '#95a5a6' : '#1d6b4f'); };
    const links = flows.links.filter((l) => l.energy_tce > 0).map((l) => {
      for (const k of [l.source, l.target]) if (!nodes.has(k)) nodes.set(k, { name: label(k), itemStyle: { color: colorOf(k) } });
      return { source: label(l.source), target: label(l.target), value: l.energy_tce };
    });
    return {
      tooltip: { trigger: 'item', formatter: (p) => GP.markup(p.dataType === 'edge' ? html`${p.data.source} → ${p.data.target}<br>${GP.fmt(p.data.value, 0)} ${tce}` : html`${p.name}<br>${GP.fmt(p.value, 0)} ${tce}`) },
      series: [{ type: 'sankey', data: [...nodes.values()], links, emphasis: { focus: 'adjacency' }, nodeGap: 14, lineStyle: { color: 'gradient', curveness: 0.5, opacity: 0.45 }, label: { fontSize: 13 } }],
    };
  }
  const SANKEY_NOTE = N_('The data give no carrier × sector matrix: the flows pass through the "Total final use" node; nothing is allocated by assumption.');

  // unit: the unit of the values, shown in the tooltip
  function pie(id, rows, valueKey, unit) {
    const data = rows.filter((r) => r[valueKey] > 0).map((r, i) => ({ name: r.label, value: r[valueKey], itemStyle: { color: r.color || palette[i % palette.length] } }));
    return chart(id, {
      tooltip: { trigger: 'item', formatter: (p) => GP.markup(html`${p.name}<br>${GP.fmt(p.value, 0)} ${unit} (${GP.fmt(p.percent, 2)}%)`) },
      legend: { bottom: 0, type: 'scroll' },
      series: [{ type: 'pie', radius: ['42%', '70%'], center: ['50%', '45%'], data, label: { formatter: (p) => `${p.name}\n${GP.fmt(p.percent, 1)}%` } }],
    });
  }

  async function loadCockpit(scope, year) {
    // no scope: the park's default (its core area when it has one, else the whole park)
    const q = new URLSearchParams(); if (scope) q.set('scope', scope); if (year) q.set('year', year);
    return GP.api('/api/cockpit?' + q);
  }

  function bindScopeYear(d, reload) {
    const scopeSel = document.getElementById('scope');
    const yearSel = document.getElementById('year');
    fillSelect(scopeSel, (d.scopes || []).map((s) => ({ value: s.code, label: name(s), name: !s.name_en || s.name_en === s.name_zh })), d.scope);
    fillSelect(yearSel, (d.years || []).map((y) => ({ value: y, label: y })), d.year);
    scopeSel.onchange = () => reload(scopeSel.value, null);
    yearSel.onchange = () => reload(scopeSel.value, yearSel.value);
  }

  // the target line of the energy-per-value-added KPI: target, met or the gap, and the yearly fall needed
  function ivaTarget(value, target, req) {
    if (!target || !value) return '';
    const met = value <= target.value;
    const t = {
      target: _('2025 target {v}', { v: target.value }),
      state: met ? _('target reached') : _('gap {v}', { v: GP.fmt(value - target.value, 3) }),
      needs: req ? _('needs a yearly fall of {p}', { p: GP.pct(req.rate_per_year, 1) }) : '',
    };
    return html`${t.target} · <span class="${met ? 'good' : 'badv'}">${t.state}</span>${req && !met ? html`<br><span id="kpi-iva-required" data-value="${req.rate_per_year}">${t.needs}</span>` : ''}`;
  }

  const INTENSITY_CARD = [
    ['co2_per_gdp', N_('CO₂ per GDP')], ['energy_per_gdp', N_('Energy per GDP')],
    ['co2_per_above_scale_value_added', N_('CO₂ per above-scale value added')],
    ['co2_per_industrial_value_added', N_('CO₂ per industrial value added (above-scale carriers)')],
    ['industry_co2_per_industrial_value_added', N_('Industrial CO₂ per industrial value added')],
  ];
  GP.cockpit = async function (scope = null, year = null) {
    // a link may name the scope to open on (the parks overview opens the whole park)
    const d = await loadCockpit(scope || new URLSearchParams(window.location.search).get('scope'), year);
    GP.data = d;
    bindScopeYear(d, GP.cockpit);
    if (!d.year) { // no energy data yet: say so and where they come from, rather than empty cards
      GP.setHTML(document.getElementById('kpi-boundary'), html`${_('No energy data for this park yet: import them on the data import page.')} <a href="/import">${_('Data import')} ›</a>`);
      document.querySelectorAll('section.grid, section.kpis').forEach((el) => { el.hidden = true; });
      await ready();
      return;
    }
    const cur = d.current, t = cur.totals, ints = cur.intensities;
    // the title: the park, and the zone when a zone is shown (the whole park is the park itself)
    document.getElementById('park-name').textContent = d.scope === 'park' ? name(d.park) : `${name(d.park)} · ${name(d.scope_name)}`;
    setKpi('kpi-energy', t.energy_tce_calorific, 0);
    document.getElementById('kpi-energy-ev').textContent = t.energy_tce_equal_value ? _('equal value {v} tce', { v: GP.fmt(t.energy_tce_equal_value, 0) }) : '';
    setKpi('kpi-co2', t.co2_t, 0);
    // one figure, one boundary, named: the energy and CO₂ above are of this boundary
    const here = d.series.find((s) => s.year === d.year) || {};
    const said = cur.boundary === 'above_scale'
      ? _('Energy and CO₂ of above-scale industry: the only boundary of this scope with a carrier split (needed for CO₂).')
      : _('Energy and CO₂ of the whole society (all sectors).');
    const whole = cur.boundary === 'above_scale' && here.energy_tce_calorific
      ? _('The whole society used {v} tce, without a carrier split.', { v: GP.fmt(here.energy_tce_calorific, 0) }) : '';
    document.getElementById('kpi-boundary').textContent = whole ? `${said} ${whole}` : said;
    GP.illustrative(cur.illustrative, d.year);
    document.getElementById('kpi-co2-src').textContent = t.co2_by_source_t
      ? _('combustion {a} · purchased electricity {b}', { a: GP.fmt(t.co2_by_source_t.combustion, 0), b: GP.fmt(t.co2_by_source_t.purchased_electricity, 0) })
      : (cur.boundary === 'above_scale' ? _('above-scale industry only') : '');
    // the first intensity this scope and boundary has, named by what it divides
    const pick = INTENSITY_CARD.find(([k]) => ints[k]);
    document.getElementById('kpi-int1-label').textContent = _(pick ? pick[1] : INTENSITY_CARD[0][1]);
    document.getElementById('kpi-int1-unit').textContent = pick ? GP.unit(ints[pick[0]].unit) : '';
    setKpi('kpi-int1', pick ? ints[pick[0]].value : null, 3);
    const sel = d.series.find((s) => s.year === d.year) || {};
    setKpi('kpi-iva', sel.energy_per_iva, 3);
    const tgt2025 = (d.indicator.targets || []).find((x) => x.year === 2025);
    GP.setHTML(document.getElementById('kpi-iva-target'), ivaTarget(sel.energy_per_iva, tgt2025, d.indicator.required_reduction));

    chart('chart-years', {
      tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 70, right: 70, top: 40, bottom: 30 },
      xAxis: { type: 'category', data: d.series.map((s) => s.year) },
      yAxis: [{ type: 'value', name: _('10⁴ tce'), axisLabel: { formatter: (v) => GP.fmt(v / 1e4, 0) } }, { type: 'value', name: _('10⁴ tCO₂'), axisLabel: { formatter: (v) => GP.fmt(v / 1e4, 0) } }],
      series: [
        { name: _('Energy (calorific)'), type: 'bar', data: d.series.map((s) => s.energy_tce_calorific || s.above_scale_energy_tce), itemStyle: { color: '#2e8b66' } },
        { name: _('CO₂'), type: 'line', yAxisIndex: 1, data: d.series.map((s) => s.co2_t ?? s.above_scale_co2_t), itemStyle: { color: '#c0392b' }, connectNulls: false, symbolSize: 9 },
      ],
    });
    pie('chart-carriers', cur.by_carrier.map((r) => ({ label: name(r), energy: r.energy_tce_calorific, color: r.color })), 'energy', _('tce'));
    pie('chart-sectors', cur.by_sector.map((r, i) => ({ label: name(r), energy: r.energy_tce_calorific, color: palette[(i + 3) % palette.length] })), 'energy', _('tce'));
    pie('chart-co2', cur.by_carrier.filter((r) => r.co2_t).map((r) => ({ label: name(r), co2: r.co2_t, color: r.color })), 'co2', _('tCO₂'));

    const targets = (d.indicator.targets || []);
    const years = [...new Set([...d.series.map((s) => s.year), ...targets.map((x) => x.year)])].sort();
    const mark = (d.national_targets || []).map((n) => ({ yAxis: n.value, name: zh() ? n.label_zh : n.label_en, label: { formatter: zh() ? n.label_zh : n.label_en, position: 'insideEndTop' }, lineStyle: { type: 'dashed', color: n.value < 0.35 ? '#8e44ad' : '#7f8c8d' } }));
    chart('chart-target', {
      tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 60, right: 30, top: 40, bottom: 30 },
      xAxis: { type: 'category', data: years }, yAxis: { type: 'value', name: _('tce/10⁴ yuan'), min: 0 },
      series: [
        { name: _('Actual'), type: 'line', data: years.map((y) => (d.series.find((s) => s.year === y) || {}).energy_per_iva ?? null), symbolSize: 9, itemStyle: { color: '#1d6b4f' }, markLine: { symbol: 'none', data: mark } },
        { name: _('Plan target'), type: 'line', data: years.map((y) => { const x = targets.find((tt) => tt.year === y); return x ? x.value : null; }), lineStyle: { type: 'dashed' }, itemStyle: { color: '#e67e22' }, connectNulls: true },
      ],
    });
    GP.setHTML(document.getElementById('target-note'), d.indicator.name_zh ? html`${zh() ? d.indicator.name_zh : d.indicator.name_en} · ${GP.name(d.indicator.source)}` : '');
    chart('chart-sankey', sankeyOption(cur.flows, cur.by_carrier, cur.by_sector));
    document.getElementById('sankey-note').textContent = cur.flows.kind === 'via_total' ? _(SANKEY_NOTE) : '';
    fillChecks(document.getElementById('checks'), cur.checks);
    await ready();
  };

  GP.sankeyPage = async function (scope = null, year = null) {
    const d = await loadCockpit(scope, year);
    bindScopeYear(d, GP.sankeyPage);
    if (!d.year) return;
    chart('chart-sankey', sankeyOption(d.current.flows, d.current.by_carrier, d.current.by_sector));
    document.getElementById('sankey-note').textContent = d.current.flows.kind === 'via_total' ? _(SANKEY_NOTE) : '';
    await ready();
  };

  GP.environmentPage = async function (station = null, year = null) {
    const stations = await GP.api('/api/env/stations');
    const note = document.getElementById('env-source');
    if (!stations.length) {
      note.textContent = _('This park has no air-quality station yet: stations come with its onboarding workbook (sheet “points”).');
      await ready();
      return;
    }
    const st = station || stations[0].code;
    const years = (stations.find((s) => s.code === st) || stations[0]).years;
    const yr = year || years[years.length - 1];
    const sSel = document.getElementById('env-station'), ySel = document.getElementById('env-year');
    fillSelect(sSel, stations.map((s) => ({ value: s.code, label: s.station, name: true })), st);
    fillSelect(ySel, years.map((y) => ({ value: y, label: y })), yr);
    sSel.onchange = () => GP.environmentPage(sSel.value, null);
    ySel.onchange = () => GP.environmentPage(sSel.value, Number(ySel.value));
    if (!years.length) {
      note.textContent = _('No hourly air-quality data for this station yet: import them (data import, or greenpark import-air) to see its evaluation.');
      await ready();
      return;
    }
    const d = await GP.api('/api/env/air/annual?' + new URLSearchParams({ station: st, year: yr }));
    GP.env = d;
    const ev = d.evaluation, stats = ev.statistics;
    document.getElementById('env-source').textContent = d.data_source && d.data_source.startsWith('synthetic')
      ? _("The hourly data are synthetic, generated to match the station's published annual values (not measurements); for demonstration only.")
      : (d.data_source || '');
    setKpi('env-index', ev.composite_index, 2);
    document.getElementById('env-standard').textContent = `${ev.standard} · ${ev.aqi_editions.join(', ')}`;
    setKpi('env-good', ev.good_days, 0);
    document.getElementById('env-good-ratio').textContent = GP.pct(ev.good_ratio, 1) + ' · ' + _('{n} days', { n: ev.days_with_aqi });
    setKpi('env-pm25', stats.pm25.annual_mean, 1);
    document.getElementById('env-pm25-limit').textContent = _('limit {v}', { v: stats.pm25.limit_annual });
    setKpi('env-o3', stats.o3_8h.daily_max_8h_p90, 1);
    document.getElementById('env-o3-limit').textContent = _('limit {v}', { v: stats.o3_8h.limit });
    const cats = d.categories;
    chart('chart-calendar', {
      tooltip: { formatter: (p) => GP.markup(html`${p.value[0]}<br>AQI ${p.value[1] ?? '–'}`) },
      visualMap: { type: 'piecewise', orient: 'horizontal', left: 'center', bottom: 0,
        pieces: cats.map((c) => ({ min: c.level === 1 ? 0 : [0, 51, 101, 151, 201, 301][c.level - 1], max: [50, 100, 150, 200, 300, 9999][c.level - 1], label: zh() ? c.zh : c.en, color: c.color })) },
      calendar: { range: String(d.year), top: 30, left: 40, right: 20, cellSize: ['auto', 16], dayLabel: { nameMap: zh() ? 'ZH' : 'EN' }, monthLabel: { nameMap: zh() ? 'ZH' : 'EN' }, yearLabel: { show: false } },
      series: [{ type: 'heatmap', coordinateSystem: 'calendar', data: d.daily.map((r) => [r.date, r.aqi]) }],
    });
    const names = { so2: 'SO₂', no2: 'NO₂', pm10: 'PM10', pm25: 'PM2.5', co: 'CO', o3_8h: 'O₃-8h' };
    const w = { met: _('met'), exceeded: _('exceeded'), missed: _('missed'), noSamples: _('no samples'), lake: _('lake or reservoir'), river: _('river') };
    GP.setHTML(document.querySelector('#env-eval tbody'), html`${Object.entries(stats).map(([p, s]) => {
      const v = s.annual_mean ?? s.daily_p95 ?? s.daily_max_8h_p90; const lim = s.limit_annual ?? s.limit;
      return html`<tr><td>${names[p] || p}</td><td class="num">${GP.fmt(v, p === 'co' ? 2 : 1)}</td><td class="num">${lim}</td><td class="${s.meets_limit ? 'good' : 'bad'}">${s.meets_limit ? w.met : w.exceeded}</td></tr>`;
    })}`);
    const trend = ['pm25', 'pm10', 'o3_8h', 'no2', 'so2', 'co'];
    const series = trend.map((p, i) => ({ name: names[p], type: 'line', showSymbol: false, yAxisIndex: p === 'co' ? 1 : 0, data: d.daily.map((r) => [r.date, r[p]]),
      lineStyle: { width: 1 }, itemStyle: { color: palette[i % palette.length] },
      markLine: { symbol: 'none', silent: true, data: [{ yAxis: d.daily_limits[p], name: names[p] }], lineStyle: { color: palette[i % palette.length], type: 'dashed' }, label: { formatter: `${names[p]} ${d.daily_limits[p]}` } } }));
    chart('chart-trend', { tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 50, right: 110, top: 40, bottom: 30 }, xAxis: { type: 'time' },
      yAxis: [{ type: 'value', name: 'μg/m³' }, { type: 'value', name: 'CO mg/m³', position: 'right', offset: 0, splitLine: { show: false } }], series });
    const catName = Object.fromEntries(cats.map((c) => [c.level, zh() ? c.zh : c.en]));
    const primary = (p) => (p ? p.split('/').map((x) => ({ ...names, o3: 'O₃-1h' })[x] || x).join(_(', ')) : '–');
    GP.setHTML(document.querySelector('#env-days tbody'), d.daily.map((r) => html`<tr><td>${r.date}</td><td class="num">${r.aqi ?? '–'}</td><td>${r.level ? catName[r.level] : '–'}</td><td>${primary(r.primary)}</td>
      <td class="num">${GP.fmt(r.pm25, 0)}</td><td class="num">${GP.fmt(r.pm10, 0)}</td><td class="num">${GP.fmt(r.o3_8h, 0)}</td><td class="num">${GP.fmt(r.no2, 0)}</td><td class="num">${GP.fmt(r.so2, 0)}</td><td class="num">${GP.fmt(r.co, 2)}</td><td class="num">${r.hours_min}</td></tr>`));
    GP.table(document.getElementById('env-days'));
    const water = await GP.api('/api/env/water-sections');
    const classColor = { I: '#3b82f6', II: '#3b82f6', III: '#22c55e', IV: '#eab308', V: '#f97316', '劣V': '#dc2626' };
    const worse = _('worse than V');
    const waterClass = (c) => (c === '劣V' ? worse : c);
    const waterRow = (w2) => {
      const target = _('target class {c}', { c: w2.target_class });
      const got = w2.latest ? html`<span class="status" style="background:${classColor[w2.latest.class]};color:#fff" title="${w2.latest.date}">${waterClass(w2.latest.class)}</span> ${w2.latest.meets_target ? w.met : w.missed}` : html`<span class="note">${w.noSamples}</span>`;
      return html`<tr data-section="${w2.code}"><td>${GP.name(w2.name)}</td><td>${w2.water_body === 'lake' ? w.lake : w.river}</td><td>${target}</td><td>${got}</td></tr>`;
    };
    GP.setHTML(document.querySelector('#env-water tbody'), water.map(waterRow));
    const noise = await GP.api('/api/env/noise-zones');
    const measured = (z, period) => { const m = (z.latest || []).find((x) => x.period === period); return m ? html` <span class="${m.complies ? 'good' : 'bad'}" title="${m.date}">${m.leq_db}</span>` : ''; };
    const zone = (z) => _('class {c}', { c: z.zone_class });
    GP.setHTML(document.querySelector('#env-noise tbody'), html`${noise.map((z) => html`<tr><td>${zone(z)}</td><td>${GP.name(z.description)}</td><td class="num">${z.day_db}${measured(z, 'day')}</td><td class="num">${z.night_db}${measured(z, 'night')}</td></tr>`)}`);
    await ready();
  };

  GP.inventoryPage = function (signedIn) {
    const s = document.getElementById('inv-scope'), y = document.getElementById('inv-year'), b = document.getElementById('inv-boundary');
    const w = {
      energyCal: _('Energy (calorific)'), energyEv: _('Energy (equal value)'), co2: _('CO₂'), records: _('Records'), tce: _('tce'), tco2: _('tCO₂'),
      lineage: _('lineage'), bySector: _('By sector'), sector: _('Sector'), co2t: _('CO₂ (t)'), share: _('Share'),
    };
    let asked = 0; // only the answer to the latest choice is shown (an earlier one may arrive later)
    const load = async () => {
      if (!y.value) { // a park without energy data yet: say so and where they come from
        GP.setHTML(document.querySelector('#inv-table tbody'), html`<tr><td colspan="9" class="note">${_('No energy data for this park yet: import them on the data import page.')} <a href="/import">${_('Data import')} ›</a></td></tr>`);
        document.body.dataset.ready = '1';
        return;
      }
      const q = new URLSearchParams({ scope: s.value, year: y.value, boundary: b.value });
      const mine = ++asked;
      document.getElementById('inv-export').href = '/api/inventory/export.xlsx?' + q;
      let d;
      try { d = await GP.api('/api/inventory?' + q); } catch (e) { if (mine === asked) GP.setHTML(document.querySelector('#inv-table tbody'), html`<tr><td colspan="9">${e.message}</td></tr>`); return; }
      if (mine !== asked) return;
      GP.inventory = d;
      GP.illustrative(d.illustrative, d.year);
      const t = d.totals;
      GP.setHTML(document.getElementById('inv-totals'), html`${[
        [w.energyCal, GP.fmt(t.energy_tce_calorific, 2), w.tce],
        [w.energyEv, GP.fmt(t.energy_tce_equal_value, 2), w.tce],
        [w.co2, GP.fmt(t.co2_t, 0), w.tco2],
        [w.records, GP.fmt(t.records, 0), ''],
      ].map(([a, v, u]) => html`<div class="kpi"><div class="label">${a}</div><div class="value">${v}</div><div class="unit">${u}</div></div>`)}`);
      const tb = document.querySelector('#inv-table tbody'); tb.replaceChildren();
      for (const r of d.by_carrier) {
        const tr = document.createElement('tr'); tr.className = 'clickable'; tr.dataset.carrier = r.carrier;
        GP.setHTML(tr, html`<td>${name(r)}</td><td class="num">${GP.fmt(r.quantity, 2)}${r.quantity_derived ? '*' : ''}</td><td>${GP.unit(r.unit)}</td><td class="num">${GP.fmt(r.energy_gj, 0)}</td><td class="num">${GP.fmt(r.energy_tce_calorific, 2)}</td><td class="num">${GP.fmt(r.energy_tce_equal_value, 2)}</td><td class="num co2">${GP.fmt(r.co2_t, 1)}</td><td class="num">${GP.pct(r.share_energy, 2)}</td><td>${w.lineage} ›</td>`);
        tr.onclick = () => showLineage(d, r);
        tb.appendChild(tr);
      }
      GP.setHTML(document.getElementById('inv-sectors'), d.by_sector.length
        ? html`<h2>${w.bySector}</h2><table class="data"><thead><tr><th>${w.sector}</th><th class="num">${w.tce}</th><th class="num">${w.co2t}</th><th class="num">${w.share}</th></tr></thead><tbody>${d.by_sector.map((r) => html`<tr><td>${name(r)}</td><td class="num">${GP.fmt(r.energy_tce_calorific, 2)}</td><td class="num">${GP.fmt(r.co2_t, 0)}</td><td class="num">${GP.pct(r.share_energy, 2)}</td></tr>`)}</tbody></table>`
        : '');
      fillChecks(document.getElementById('inv-checks'), d.checks);
      document.getElementById('inv-lineage').hidden = true;
      document.body.dataset.ready = '1';
    };
    const QUALITY = { measured: N_('measured'), reported: N_('reported'), estimated: N_('estimated'), derived: N_('derived'), verified: N_('third-party verified') };
    const quality = (q) => (QUALITY[q] ? _(QUALITY[q]) : q);
    async function showLineage(d, r) {
      const box = document.getElementById('inv-lineage'); box.hidden = false;
      const v = {
        title: _('Lineage: {name} — CO₂ {co2} t, {tce} tce', { name: name(r), co2: GP.fmt(r.co2_t, 1), tce: GP.fmt(r.energy_tce_calorific, 2) }),
        method: _('Method'), factors: _('Factors used'), parameter: _('Parameter'), value: _('Value'), unit: _('Unit'), set: _('Factor set'), source: _('Source'), status: _('Status'),
        records: _('Source records ({n})', { n: r.lineage.inputs.records }), logIn: _('Log in to see the records'), all: _('all sectors'), quantity: _('Quantity'), quality: _('Data quality'),
        history: _('History'),
      };
      const f = r.lineage.factors.map((x) => html`<tr><td>${GP.label('parameter', x.parameter)}</td><td class="num">${x.value}</td><td>${GP.unit(x.unit)}</td><td>${GP.name(x.set_code)} v${x.set_version}</td><td>${GP.name(x.source_table)}</td><td><span class="status ${x.status}">${GP.factorStatus(x.status)}</span></td></tr>`);
      let recs = html`<p class="note">${v.logIn}</p>`;
      if (signedIn) {
        try {
          const q = new URLSearchParams({ scope: d.scope.code, year: d.year, boundary: d.boundary, carrier: r.carrier });
          const rows = await GP.api('/api/inventory/records?' + q);
          recs = html`<table class="data" id="lineage-records"><thead><tr><th>#</th><th>${w.sector}</th><th class="num">${v.quantity}</th><th>${v.unit}</th><th class="num">${w.tce}</th><th>${v.source}</th><th>${v.quality}</th><th></th></tr></thead><tbody>${rows.map((x) => html`<tr data-key="${x.key}"><td>${x.id}</td><td>${x.sector ? GP.label('sector', x.sector) : v.all}</td><td class="num">${GP.fmt(x.quantity, 2)}</td><td>${GP.unit(x.unit || '')}</td><td class="num">${GP.fmt(x.energy_tce, 2)}</td><td>${GP.name(x.source_ref)}</td><td>${quality(x.quality)}</td><td><button type="button" class="secondary history-btn" data-entity="activity_record" data-key="${x.key}">${v.history}</button></td></tr>`)}</tbody></table>`;
        } catch (e) { recs = html`<p class="note">${e.message}</p>`; }
      }
      GP.setHTML(box, html`<h2>${v.title}</h2>
        <div class="lineage"><h3>${v.method}</h3><ol>${r.lineage.method.map((m) => html`<li>${m}</li>`)}</ol>
        <h3>${v.factors}</h3><table class="data"><thead><tr><th>${v.parameter}</th><th class="num">${v.value}</th><th>${v.unit}</th><th>${v.set}</th><th>${v.source}</th><th>${v.status}</th></tr></thead><tbody>${f}</tbody></table>
        <h3>${v.records}</h3>${recs}</div>`);
      GP.historyButtons(box);
      box.scrollIntoView({ behavior: 'smooth' });
    }
    s.onchange = y.onchange = b.onchange = load;
    load();
  };

  // <body data-page="…"> → page entry (the other page scripts register theirs the same way)
  Object.assign(GP.pages, {
    cockpit: () => GP.cockpit(),
    sankey: () => GP.sankeyPage(),
    environment: () => GP.environmentPage(),
    inventory: () => GP.inventoryPage(document.body.dataset.signedIn === '1'),
  });
})();
