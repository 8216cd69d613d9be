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
    const run = GP.pages[b.dataset.page];
    if (run) run(b.dataset.arg || '');
    else b.dataset.ready = '1';
  });
  const lang = () => document.body.dataset.lang || 'zh';
  const zh = () => lang() === 'zh';
  const L = (zhText, enText) => (zh() ? zhText : enText);
  const html = GP.html;
  // items separated by sep (both escaped unless GP.html results), e.g. GP.join(lines, GP.html`<br>`)
  GP.join = (items, sep = '') => html`${items.map((x, i) => (i ? html`${sep}${x}` : html`${x}`))}`;
  const nf = (d) => new Intl.NumberFormat(zh() ? 'zh-CN' : 'en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  GP.fmt = (v, d = 0) => (v === null || v === undefined || Number.isNaN(v) ? '–' : nf(d).format(v));
  GP.pct = (v, d = 1) => (v === null || v === undefined ? '–' : nf(d).format(v * 100) + '%');
  GP.api = async (url) => {
    const r = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!r.ok) throw new Error(url + ': ' + r.status);
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
  // shared with the other page scripts
  Object.assign(GP, { chart, ready, L, zh, palette });

  function setKpi(id, value, digits) {
    const el = document.getElementById(id);
    if (!el) return;
    el.dataset.value = value === null || value === undefined ? '' : String(value);
    el.textContent = GP.fmt(value, digits);
  }

  function fillSelect(sel, items, current) {
    sel.replaceChildren();
    for (const it of items) {
      const o = document.createElement('option');
      o.value = it.value; o.textContent = it.label; if (String(it.value) === String(current)) o.selected = true;
      sel.appendChild(o);
    }
  }

  function fillChecks(ul, checks) {
    ul.replaceChildren();
    for (const c of checks) { const li = document.createElement('li'); li.className = c.severity; li.textContent = zh() ? c.message_zh : c.message_en; ul.appendChild(li); }
  }

  function sankeyOption(flows, byCarrier, bySector) {
    const nodes = new Map();
    const label = (k) => {
      if (k === '_total') return L('终端能耗合计', 'Total final use');
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
      tooltip: { trigger: 'item', formatter: (p) => GP.markup(p.dataType === 'edge' ? html`${p.data.source} → ${p.data.target}<br>${GP.fmt(p.data.value, 0)} tce` : html`${p.name}<br>${GP.fmt(p.value, 0)} tce`) },
      series: [{ type: 'sankey', data: [...nodes.values()], links, emphasis: { focus: 'adjacency' }, nodeGap: 14, lineStyle: { color: 'gradient', curveness: 0.5, opacity: 0.45 }, label: { fontSize: 13 } }],
    };
  }

  function pie(id, rows, valueKey, title) {
    const data = rows.filter((r) => r[valueKey] > 0).map((r, i) => ({ name: r.label, value: r[valueKey], itemStyle: { color: r.color || palette[i % palette.length] } }));
    return chart(id, {
      tooltip: { trigger: 'item', formatter: (p) => GP.markup(html`${p.name}<br>${GP.fmt(p.value, 0)} ${title} (${GP.fmt(p.percent, 2)}%)`) },
      legend: { bottom: 0, type: 'scroll' },
      series: [{ type: 'pie', radius: ['42%', '70%'], center: ['50%', '45%'], data, label: { formatter: (p) => `${p.name}\n${GP.fmt(p.percent, 1)}%` } }],
    });
  }

  async function loadCockpit(scope, year) {
    const q = new URLSearchParams({ scope }); if (year) q.set('year', year);
    return GP.api('/api/cockpit?' + q);
  }

  function bindScopeYear(d, reload) {
    const scopeSel = document.getElementById('scope');
    const yearSel = document.getElementById('year');
    fillSelect(scopeSel, (d.scopes || []).map((s) => ({ value: s.code, label: name(s) })), d.scope);
    fillSelect(yearSel, (d.years || []).map((y) => ({ value: y, label: y })), d.year);
    scopeSel.onchange = () => reload(scopeSel.value, null);
    yearSel.onchange = () => reload(scopeSel.value, yearSel.value);
  }

  GP.cockpit = async function (scope = 'core', year = null) {
    const d = await loadCockpit(scope, year);
    GP.data = d;
    bindScopeYear(d, GP.cockpit);
    if (!d.year) return;
    const cur = d.current, t = cur.totals, ints = cur.intensities;
    document.getElementById('park-name').textContent = `${name(d.park)} · ${name(d.scope_name)}`;
    setKpi('kpi-energy', t.energy_tce_calorific, 0);
    document.getElementById('kpi-energy-ev').textContent = t.energy_tce_equal_value ? `${L('等价值', 'equal value')} ${GP.fmt(t.energy_tce_equal_value, 0)} tce` : '';
    setKpi('kpi-co2', t.co2_t, 0);
    document.getElementById('kpi-co2-src').textContent = t.co2_by_source_t ? `${L('燃烧', 'combustion')} ${GP.fmt(t.co2_by_source_t.combustion, 0)} · ${L('外购电', 'electricity')} ${GP.fmt(t.co2_by_source_t.purchased_electricity, 0)}` : (cur.boundary === 'above_scale' ? L('规上工业口径', 'above-scale industry') : '');
    const first = ints.co2_per_gdp || ints.energy_per_gdp || ints.co2_per_above_scale_value_added;
    document.getElementById('kpi-int1-label').textContent = ints.co2_per_gdp ? L('单位GDP碳排放', 'CO₂ per GDP') : (ints.energy_per_gdp ? L('单位GDP能耗', 'Energy per GDP') : L('规上单位增加值碳排放', 'CO₂ per above-scale VA'));
    document.getElementById('kpi-int1-unit').textContent = first && first.unit.startsWith('tCO2') ? 'tCO₂/万元' : 'tce/万元';
    setKpi('kpi-int1', first ? first.value : null, 3);
    const sel = d.series.find((s) => s.year === d.year) || {};
    setKpi('kpi-iva', sel.energy_per_iva, 3);
    const tgt2025 = (d.indicator.targets || []).find((x) => x.year === 2025);
    const req = d.indicator.required_reduction;
    GP.setHTML(document.getElementById('kpi-iva-target'), tgt2025 && sel.energy_per_iva
      ? html`${L('2025年目标', '2025 target')} ${tgt2025.value} · <span class="${sel.energy_per_iva <= tgt2025.value ? 'good' : 'badv'}">${sel.energy_per_iva <= tgt2025.value ? L('已达到', 'met') : L('差距', 'gap') + ' ' + GP.fmt(sel.energy_per_iva - tgt2025.value, 3)}</span>${req && sel.energy_per_iva > tgt2025.value ? html`<br><span id="kpi-iva-required" data-value="${req.rate_per_year}">${L('需年均下降', 'needs a yearly fall of')} ${GP.pct(req.rate_per_year, 1)}</span>` : ''}`
      : '');

    chart('chart-years', {
      tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 70, right: 70, top: 40, bottom: 30 },
      xAxis: { type: 'category', data: d.series.map((s) => s.year) },
      yAxis: [{ type: 'value', name: 'tce', axisLabel: { formatter: (v) => GP.fmt(v / 1e4, 0) + L('万', '×10⁴') } }, { type: 'value', name: 'tCO₂', axisLabel: { formatter: (v) => GP.fmt(v / 1e4, 0) + L('万', '×10⁴') } }],
      series: [
        { name: L('综合能耗（当量值）', 'Energy (calorific)'), type: 'bar', data: d.series.map((s) => s.energy_tce_calorific || s.above_scale_energy_tce), itemStyle: { color: '#2e8b66' } },
        { name: L('二氧化碳', 'CO₂'), type: 'line', yAxisIndex: 1, data: d.series.map((s) => s.co2_t ?? s.above_scale_co2_t), itemStyle: { color: '#c0392b' }, connectNulls: false, symbolSize: 9 },
      ],
    });
    pie('chart-carriers', cur.by_carrier.map((r) => ({ label: name(r), energy: r.energy_tce_calorific, color: r.color })), 'energy', 'tce');
    pie('chart-sectors', cur.by_sector.map((r, i) => ({ label: name(r), energy: r.energy_tce_calorific, color: palette[(i + 3) % palette.length] })), 'energy', 'tce');
    pie('chart-co2', cur.by_carrier.filter((r) => r.co2_t).map((r) => ({ label: name(r), co2: r.co2_t, color: r.color })), 'co2', 'tCO₂');

    const targets = (d.indicator.targets || []);
    const years = [...new Set([...d.series.map((s) => s.year), ...targets.map((x) => x.year)])].sort();
    const mark = (d.national_targets || []).map((n) => ({ yAxis: n.value, name: zh() ? n.label_zh : n.label_en, label: { formatter: zh() ? n.label_zh : n.label_en, position: 'insideEndTop' }, lineStyle: { type: 'dashed', color: n.value < 0.35 ? '#8e44ad' : '#7f8c8d' } }));
    chart('chart-target', {
      tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 60, right: 30, top: 40, bottom: 30 },
      xAxis: { type: 'category', data: years }, yAxis: { type: 'value', name: 'tce/万元', min: 0 },
      series: [
        { name: L('实际', 'Actual'), type: 'line', data: years.map((y) => (d.series.find((s) => s.year === y) || {}).energy_per_iva ?? null), symbolSize: 9, itemStyle: { color: '#1d6b4f' }, markLine: { symbol: 'none', data: mark } },
        { name: L('方案目标', 'Plan target'), type: 'line', data: years.map((y) => { const x = targets.find((tt) => tt.year === y); return x ? x.value : null; }), lineStyle: { type: 'dashed' }, itemStyle: { color: '#e67e22' }, connectNulls: true },
      ],
    });
    document.getElementById('target-note').textContent = d.indicator.name_zh ? `${zh() ? d.indicator.name_zh : d.indicator.name_en} · ${d.indicator.source}` : '';
    chart('chart-sankey', sankeyOption(cur.flows, cur.by_carrier, cur.by_sector));
    document.getElementById('sankey-note').textContent = cur.flows.kind === 'via_total' ? L('数据未给出分品种分部门矩阵，能流经“终端能耗合计”节点，不做推断分配。', 'No carrier x sector matrix in the data: flows pass through a total node; nothing is allocated by assumption.') : '';
    fillChecks(document.getElementById('checks'), cur.checks);
    await ready();
  };

  GP.sankeyPage = async function (scope = 'core', year = null) {
    const d = await loadCockpit(scope, year);
    bindScopeYear(d, GP.sankeyPage);
    if (!d.year) return;
    chart('chart-sankey', sankeyOption(d.current.flows, d.current.by_carrier, d.current.by_sector));
    document.getElementById('sankey-note').textContent = d.current.flows.kind === 'via_total' ? L('数据未给出分品种分部门矩阵，能流经“终端能耗合计”节点，不做推断分配。', 'No carrier x sector matrix: flows pass through a total node.') : '';
    await ready();
  };

  GP.environmentPage = async function (station = null, year = null) {
    const stations = await GP.api('/api/env/stations');
    if (!stations.length) return;
    const st = station || stations[0].code;
    const years = (stations.find((s) => s.code === st) || stations[0]).years;
    const yr = year || years[years.length - 1];
    const sSel = document.getElementById('env-station'), ySel = document.getElementById('env-year');
    fillSelect(sSel, stations.map((s) => ({ value: s.code, label: s.station })), st);
    fillSelect(ySel, years.map((y) => ({ value: y, label: y })), yr);
    sSel.onchange = () => GP.environmentPage(sSel.value, null);
    ySel.onchange = () => GP.environmentPage(sSel.value, Number(ySel.value));
    const d = await GP.api('/api/env/air/annual?' + new URLSearchParams({ station: st, year: yr }));
    GP.env = d;
    const ev = d.evaluation, stats = ev.statistics;
    document.getElementById('env-source').textContent = d.data_source && d.data_source.startsWith('synthetic') ? L('小时数据为系统按站点年均值生成的模拟数据（非监测数据），仅用于演示。', 'The hourly data are synthetic, generated to match the station\'s published annual values (not measurements); for demonstration only.') : (d.data_source || '');
    setKpi('env-index', ev.composite_index, 2);
    document.getElementById('env-standard').textContent = `${ev.standard} · ${ev.aqi_editions.join(', ')}`;
    setKpi('env-good', ev.good_days, 0);
    document.getElementById('env-good-ratio').textContent = `${GP.pct(ev.good_ratio, 1)} · ${ev.days_with_aqi} ${L('天', 'days')}`;
    setKpi('env-pm25', stats.pm25.annual_mean, 1);
    document.getElementById('env-pm25-limit').textContent = `${L('限值', 'limit')} ${stats.pm25.limit_annual}`;
    setKpi('env-o3', stats.o3_8h.daily_max_8h_p90, 1);
    document.getElementById('env-o3-limit').textContent = `${L('限值', 'limit')} ${stats.o3_8h.limit}`;
    const cats = d.categories;
    chart('chart-calendar', {
      tooltip: { formatter: (p) => GP.markup(html`${p.value[0]}<br>AQI ${p.value[1] ?? '–'}`) },
      visualMap: { type: 'piecewise', orient: 'horizontal', left: 'center', bottom: 0,
        pieces: cats.map((c) => ({ min: c.level === 1 ? 0 : [0, 51, 101, 151, 201, 301][c.level - 1], max: [50, 100, 150, 200, 300, 9999][c.level - 1], label: zh() ? c.zh : c.en, color: c.color })) },
      calendar: { range: String(d.year), top: 30, left: 40, right: 20, cellSize: ['auto', 16], dayLabel: { nameMap: zh() ? 'ZH' : 'EN' }, monthLabel: { nameMap: zh() ? 'ZH' : 'EN' }, yearLabel: { show: false } },
      series: [{ type: 'heatmap', coordinateSystem: 'calendar', data: d.daily.map((r) => [r.date, r.aqi]) }],
    });
    const names = { so2: 'SO₂', no2: 'NO₂', pm10: 'PM10', pm25: 'PM2.5', co: 'CO', o3_8h: 'O₃-8h' };
    GP.setHTML(document.querySelector('#env-eval tbody'), html`${Object.entries(stats).map(([p, s]) => {
      const v = s.annual_mean ?? s.daily_p95 ?? s.daily_max_8h_p90; const lim = s.limit_annual ?? s.limit;
      return html`<tr><td>${names[p] || p}</td><td class="num">${GP.fmt(v, p === 'co' ? 2 : 1)}</td><td class="num">${lim}</td><td class="${s.meets_limit ? 'good' : 'bad'}">${s.meets_limit ? L('达标', 'met') : L('超标', 'exceeded')}</td></tr>`;
    })}`);
    const trend = ['pm25', 'pm10', 'o3_8h', 'no2', 'so2', 'co'];
    const series = trend.map((p, i) => ({ name: names[p], type: 'line', showSymbol: false, yAxisIndex: p === 'co' ? 1 : 0, data: d.daily.map((r) => [r.date, r[p]]),
      lineStyle: { width: 1 }, itemStyle: { color: palette[i % palette.length] },
      markLine: { symbol: 'none', silent: true, data: [{ yAxis: d.daily_limits[p], name: names[p] }], lineStyle: { color: palette[i % palette.length], type: 'dashed' }, label: { formatter: `${names[p]} ${d.daily_limits[p]}` } } }));
    chart('chart-trend', { tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 50, right: 110, top: 40, bottom: 30 }, xAxis: { type: 'time' },
      yAxis: [{ type: 'value', name: 'μg/m³' }, { type: 'value', name: 'CO mg/m³', position: 'right', offset: 0, splitLine: { show: false } }], series });
    const water = await GP.api('/api/env/water-sections');
    const classColor = { I: '#3b82f6', II: '#3b82f6', III: '#22c55e', IV: '#eab308', V: '#f97316', '劣V': '#dc2626' };
    GP.setHTML(document.querySelector('#env-water tbody'), html`${water.map((w) => {
      const got = w.latest ? html`<span class="status" style="background:${classColor[w.latest.class]};color:#fff" title="${w.latest.date}">${w.latest.class}</span> ${w.latest.meets_target ? L('达标', 'met') : L('未达标', 'missed')}` : html`<span class="note">${L('无监测数据', 'no samples')}</span>`;
      return html`<tr data-section="${w.code}"><td>${w.name}</td><td>${w.water_body === 'lake' ? L('湖库', 'lake') : L('河流', 'river')}</td><td>${L('目标', 'target')} ${w.target_class}</td><td>${got}</td></tr>`;
    })}`);
    const noise = await GP.api('/api/env/noise-zones');
    const measured = (z, period) => { const m = (z.latest || []).find((x) => x.period === period); return m ? html` <span class="${m.complies ? 'good' : 'bad'}" title="${m.date}">${m.leq_db}</span>` : ''; };
    GP.setHTML(document.querySelector('#env-noise tbody'), html`${noise.map((z) => html`<tr><td>${z.zone_class} ${L('类', '')}</td><td>${z.description}</td><td class="num">${z.day_db}${measured(z, 'day')}</td><td class="num">${z.night_db}${measured(z, 'night')}</td></tr>`)}`);
    await ready();
  };

  GP.inventoryPage = function (signedIn) {
    const s = document.getElementById('inv-scope'), y = document.getElementById('inv-year'), b = document.getElementById('inv-boundary');
    const load = async () => {
      const q = new URLSearchParams({ scope: s.value, year: y.value, boundary: b.value });
      document.getElementById('inv-export').href = '/api/inventory/export.xlsx?' + q;
      let d;
      try { d = await GP.api('/api/inventory?' + q); } catch (e) { GP.setHTML(document.querySelector('#inv-table tbody'), html`<tr><td colspan="9">${e.message}</td></tr>`); return; }
      GP.inventory = d;
      const t = d.totals;
      GP.setHTML(document.getElementById('inv-totals'), html`${[
        [L('综合能耗（当量值）', 'Energy (calorific)'), GP.fmt(t.energy_tce_calorific, 2), 'tce'],
        [L('综合能耗（等价值）', 'Energy (equal value)'), GP.fmt(t.energy_tce_equal_value, 2), 'tce'],
        [L('二氧化碳', 'CO₂'), GP.fmt(t.co2_t, 0), 'tCO₂'],
        [L('记录数', 'Records'), GP.fmt(t.records, 0), ''],
      ].map(([a, v, u]) => html`<div class="kpi"><div class="label">${a}</div><div class="value">${v}</div><div class="unit">${u}</div></div>`)}`);
      const tb = document.querySelector('#inv-table tbody'); tb.replaceChildren();
      for (const r of d.by_carrier) {
        const tr = document.createElement('tr'); tr.className = 'clickable'; tr.dataset.carrier = r.carrier;
        GP.setHTML(tr, html`<td>${name(r)}</td><td class="num">${GP.fmt(r.quantity, 2)}${r.quantity_derived ? '*' : ''}</td><td>${r.unit}</td><td class="num">${GP.fmt(r.energy_gj, 0)}</td><td class="num">${GP.fmt(r.energy_tce_calorific, 2)}</td><td class="num">${GP.fmt(r.energy_tce_equal_value, 2)}</td><td class="num co2">${GP.fmt(r.co2_t, 1)}</td><td class="num">${GP.pct(r.share_energy, 2)}</td><td>${L('溯源', 'lineage')} ›</td>`);
        tr.onclick = () => showLineage(d, r);
        tb.appendChild(tr);
      }
      GP.setHTML(document.getElementById('inv-sectors'), d.by_sector.length
        ? html`<h2>${L('分部门', 'By sector')}</h2><table class="data"><thead><tr><th>${L('部门', 'Sector')}</th><th class="num">tce</th><th class="num">CO₂ (t)</th><th class="num">${L('占比', 'Share')}</th></tr></thead><tbody>${d.by_sector.map((r) => html`<tr><td>${name(r)}</td><td class="num">${GP.fmt(r.energy_tce_calorific, 2)}</td><td class="num">${GP.fmt(r.co2_t, 0)}</td><td class="num">${GP.pct(r.share_energy, 2)}</td></tr>`)}</tbody></table>`
        : '');
      fillChecks(document.getElementById('inv-checks'), d.checks);
      document.getElementById('inv-lineage').hidden = true;
      document.body.dataset.ready = '1';
    };
    async function showLineage(d, r) {
      const box = document.getElementById('inv-lineage'); box.hidden = false;
      const f = r.lineage.factors.map((x) => html`<tr><td>${x.parameter}</td><td class="num">${x.value}</td><td>${x.unit}</td><td>${x.set_code} v${x.set_version}</td><td>${x.source_table}</td><td><span class="status ${x.status}">${x.status}</span></td></tr>`);
      let recs = html`<p class="note">${L('登录后可查看原始记录', 'Log in to see the records')}</p>`;
      if (signedIn) {
        try {
          const q = new URLSearchParams({ scope: d.scope.code, year: d.year, boundary: d.boundary, carrier: r.carrier });
          const rows = await GP.api('/api/inventory/records?' + q);
          recs = html`<table class="data" id="lineage-records"><thead><tr><th>#</th><th>${L('部门', 'Sector')}</th><th class="num">${L('实物量', 'Quantity')}</th><th>${L('单位', 'Unit')}</th><th class="num">tce</th><th>${L('来源', 'Source')}</th><th>${L('质量', 'Quality')}</th></tr></thead><tbody>${rows.map((x) => html`<tr><td>${x.id}</td><td>${x.sector || L('全部', 'all')}</td><td class="num">${GP.fmt(x.quantity, 2)}</td><td>${x.unit || ''}</td><td class="num">${GP.fmt(x.energy_tce, 2)}</td><td>${x.source_ref}</td><td>${x.quality}</td></tr>`)}</tbody></table>`;
        } catch (e) { recs = html`<p class="note">${e.message}</p>`; }
      }
      GP.setHTML(box, html`<h2>${L('数据溯源', 'Lineage')}: ${name(r)} — CO₂ ${GP.fmt(r.co2_t, 1)} t, ${GP.fmt(r.energy_tce_calorific, 2)} tce</h2>
        <div class="lineage"><h3>${L('计算方法', 'Method')}</h3><ol>${r.lineage.method.map((m) => html`<li>${m}</li>`)}</ol>
        <h3>${L('所用因子', 'Factors used')}</h3><table class="data"><thead><tr><th>parameter</th><th class="num">${L('数值', 'Value')}</th><th>${L('单位', 'Unit')}</th><th>${L('因子集', 'Set')}</th><th>${L('来源', 'Source')}</th><th>${L('状态', 'Status')}</th></tr></thead><tbody>${f}</tbody></table>
        <h3>${L('原始记录', 'Records')} (${r.lineage.inputs.records})</h3>${recs}</div>`);
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
