/* greenpark carbon-peak roadmap (plan 4.2): scenarios with Monte Carlo bands, peaks, plateaus, sinks
   and net emissions; LMDI wedge and waterfall; the scenario editor; the forest-sink ledger. */
(function () {
  'use strict';
  const GP = window.GP;
  // Words come from the catalogue: _ translates an English message id, N_ only marks one (translated
  // where it is shown). Ids are written outside template literals: the extractor skips backticks.
  const _ = GP._;
  const N_ = (s) => s;
  const html = GP.html;
  const W = (t) => (t === null || t === undefined ? null : +(t / 1e4).toFixed(3)); // t → 10⁴ t (万吨)
  const SINK_PROJECT_STATUS = { planned: N_('planned'), registered: N_('registered'), crediting: N_('crediting'), closed: N_('closed') };
  // the scenario's checks that are not an indicator of the registry
  const CHECK = { peak_2030: N_('carbon peak'), neutral_2060: N_('carbon neutrality') };
  // the drivers a Monte Carlo draws (greenpark.services.roadmap.scenarios.DRIVERS)
  const DRIVER = {
    gdp: N_('economic growth'), sector_share: N_('sector structure'), energy_intensity: N_('energy intensity'),
    carrier_mix: N_('energy mix'), emission_factor: N_('emission factors'), grid_factor: N_('grid emission factor'),
    heat_factor: N_('heat emission factor'), coal_rate: N_('coal rate of power supply'),
    local_renewables: N_('local renewable electricity'), ccus: N_('CCUS'), sinks: N_('forest sinks'),
  };
  // units of the forest parameters that the shared unit table does not have
  const UNIT = { 'm3/ha/yr': N_('m³/ha/yr') };
  const unit = (u) => (UNIT[u] ? _(UNIT[u]) : GP.unit(u));
  // a parameter's source is a reference (data, shown as written) unless it is greenpark's own wording
  const SOURCE = { 'screening value': N_('screening value') };
  const source = (t) => (SOURCE[t] ? _(SOURCE[t]) : GP.name(t));
  // a translated text whose {fields} may be markup (a name marked as data): GP.html pieces
  const fillHTML = (text, params) => GP.join(text.split(/\{(\w+)\}/).map((p, i) => (i % 2 ? params[p] ?? '' : p)));
  // values of the charts: 10⁴ t CO₂, in the axis names and tooltips
  const tenKt = (v) => (v === null || v === undefined ? '–' : _('{v} 10⁴ t', { v: GP.fmt(v, 1) }));
  const COLORS = { baseline: '#7f8c8d', 'peak-2030': '#2e86c1', 'peak-2025': '#1d6b4f', preview: '#e67e22' };
  const EXTRA = ['#8e44ad', '#c0392b', '#16a085', '#d35400', '#2c3e50'];
  const FACTOR_COLORS = { activity: '#c0392b', structure: '#8e44ad', intensity: '#2e86c1', mix: '#16a085', emission_factor: '#f1c40f', local_renewables: '#e67e22', ccus: '#34495e' };
  const S = { runs: {}, mc: {}, list: [], focus: '', preview: null, history: null };
  const color = (code, i) => COLORS[code] || EXTRA[i % EXTRA.length];
  const nameOf = (r) => (GP.zh() ? r.name_zh : r.name_en || r.name_zh) || r.code;
  // A preset's name is in both languages; the name (or code) an officer typed is data, shown as typed.
  const typed = (r) => {
    const s = S.list.find((x) => x.code === r.code);
    return !(s && s.preset && (GP.zh() ? s.name_zh : s.name_en));
  };
  const nameHTML = (r) => (typed(r) ? GP.name(nameOf(r)) : nameOf(r));

  async function post(url, body, method = 'POST') {
    const r = await GP.fetch(url, { method, credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': document.body.dataset.csrf }, body: JSON.stringify(body) });
    const out = await r.json();
    if (!r.ok) throw new Error(out.detail && out.detail.errors ? out.detail.errors.join(_('; ')) : (typeof out.detail === 'string' ? out.detail : JSON.stringify(out.detail)));
    // (a 422 from FastAPI's own validation carries a list in detail)
    return out;
  }

  function years() {
    const ys = new Set();
    Object.values(S.runs).forEach((r) => r.years.forEach((y) => ys.add(y)));
    (S.history ? S.history.years : []).forEach((h) => ys.add(h.year));
    return [...ys].sort((a, b) => a - b);
  }

  function drawMain() {
    const ys = years();
    const at = (r, key) => ys.map((y) => { const k = r.years.indexOf(y); return k < 0 ? null : W(r[key][k]); });
    const series = [];
    const hist = S.history ? S.history.years : [];
    series.push({ name: _('history (inventory)'), type: 'line', data: ys.map((y) => { const h = hist.find((x) => x.year === y && !x.estimated); return h ? W(h.co2_t) : null; }), symbolSize: 8, itemStyle: { color: '#000' }, lineStyle: { width: 3 } });
    series.push({ name: _('history (estimated)'), type: 'line', data: ys.map((y) => { const h = hist.find((x) => x.year === y && (x.estimated || hist.some((z) => z.estimated))); return h ? W(h.co2_t) : null; }), lineStyle: { type: 'dotted', color: '#000' }, itemStyle: { color: '#777' }, connectNulls: true });
    const codes = Object.keys(S.runs);
    const focus = S.runs[S.focus];
    const mc = S.mc[S.focus];
    if (mc) { // bands: transparent lower bound + stacked width
      const band = (lo, hi, stack, opacity) => {
        series.push({ name: 'band-' + stack, type: 'line', stack, data: ys.map((y) => { const k = mc.years.indexOf(y); return k < 0 ? null : W(mc.co2_t[lo][k]); }), lineStyle: { opacity: 0 }, symbol: 'none', silent: true, tooltip: { show: false } });
        series.push({ name: _('{lo}–{hi}% band', { lo, hi }), type: 'line', stack, data: ys.map((y) => { const k = mc.years.indexOf(y); return k < 0 ? null : W(mc.co2_t[hi][k] - mc.co2_t[lo][k]); }), lineStyle: { opacity: 0 }, symbol: 'none', itemStyle: { color: color(S.focus, 0), opacity: opacity * 3 }, areaStyle: { color: color(S.focus, 0), opacity }, tooltip: { show: false } });
      };
      band('5', '95', 'b1', 0.12);
      band('25', '75', 'b2', 0.22);
    }
    codes.forEach((c, i) => {
      const r = S.runs[c];
      const s = { name: nameOf(r), type: 'line', data: at(r, 'co2_t'), symbol: 'none', lineStyle: { width: c === S.focus ? 3 : 2 }, itemStyle: { color: color(c, i) },
        markPoint: { symbol: 'circle', symbolSize: 12, label: { show: true, position: 'top', formatter: `${r.peak_year}` }, data: [{ coord: [String(r.peak_year), W(r.peak_co2_t)] }] } };
      if (c === S.focus && r.plateau) s.markArea = { itemStyle: { color: 'rgba(230,126,34,0.12)' }, data: [[{ xAxis: String(r.plateau[0]) }, { xAxis: String(r.plateau[1]) }]] };
      series.push(s);
    });
    if (S.preview) series.push({ name: _('preview'), type: 'line', data: at(S.preview, 'co2_t'), symbol: 'none', lineStyle: { width: 3, type: 'dashed' }, itemStyle: { color: COLORS.preview },
      markPoint: { symbol: 'circle', symbolSize: 10, data: [{ coord: [String(S.preview.peak_year), W(S.preview.peak_co2_t)] }] } });
    if (focus) {
      series.push({ name: _('forest sink'), type: 'bar', data: at(focus, 'sinks_tco2').map((v) => (v === null ? null : -v)), itemStyle: { color: '#6d8f3b' }, barWidth: '55%' });
      series.push({ name: _('net emissions'), type: 'line', data: at(focus, 'net_co2_t'), symbol: 'none', lineStyle: { type: 'dashed', width: 2 }, itemStyle: { color: '#c0392b' },
        markLine: focus.neutral_year ? { symbol: 'none', label: { formatter: _('net zero {year}', { year: focus.neutral_year }) }, data: [{ xAxis: String(focus.neutral_year) }] } : undefined });
    }
    GP.chart('chart-roadmap', {
      tooltip: { trigger: 'axis', valueFormatter: tenKt },
      legend: { top: 0, type: 'scroll', data: series.filter((s) => !String(s.name).startsWith('band-')).map((s) => s.name) },
      grid: { left: 60, right: 20, top: 60, bottom: 30 }, // room for the legend above the axis name
      xAxis: { type: 'category', data: ys.map(String) },
      yAxis: { type: 'value', name: _('10⁴ tCO₂') },
      series,
    });
  }

  function checksBadge(r) {
    const what = (c) => (CHECK[c.indicator] ? _(CHECK[c.indicator]) : _('indicator {code}', { code: c.indicator }));
    return GP.join((r.checks || []).map((c) => html`<span class="${c.ok ? 'good' : 'bad'}" title="${c.how}">${c.ok ? '✓' : '✗'} ${what(c)}·${c.year}</span>`), ' ');
  }

  function drawTable() {
    const pct = (x) => (x === undefined || x === null ? '…' : GP.pct(x, 0));
    const rows = Object.keys(S.runs).map((c) => {
      const r = S.runs[c]; const mc = S.mc[c] || {};
      const peak = r.peaked ? r.peak_year : _('{year} (not peaked)', { year: r.peak_year });
      return html`<tr data-code="${c}"><td><b style="color:${color(c, Object.keys(S.runs).indexOf(c))}">■</b> ${nameHTML(r)}</td><td>${peak}</td><td class="num">${GP.fmt(W(r.peak_co2_t), 1)}</td>
        <td>${r.plateau ? r.plateau.join('–') : '–'}</td><td>${r.neutral_year || '–'}</td><td class="num">${pct(mc.p_peak_by_2025)}</td><td class="num">${pct(mc.p_peak_by_2030)}</td><td class="num">${pct(mc.p_neutral_by_2060)}</td><td>${checksBadge(r)}</td></tr>`;
    });
    const preview = _('preview');
    if (S.preview) rows.push(html`<tr data-code="preview"><td><b style="color:${COLORS.preview}">■</b> ${preview}</td><td>${S.preview.peak_year}</td><td class="num">${GP.fmt(W(S.preview.peak_co2_t), 1)}</td><td>${S.preview.plateau ? S.preview.plateau.join('–') : '–'}</td><td>${S.preview.neutral_year || '–'}</td><td></td><td></td><td></td><td>${checksBadge(S.preview)}</td></tr>`);
    GP.setHTML(document.querySelector('#rm-table tbody'), html`${rows}`);
    const mc = S.mc[S.focus];
    const driver = (d) => { const [k, ...rest] = String(d.driver).split(':'); return DRIVER[k] && !rest.length ? _(DRIVER[k]) : GP.name(d.driver); };
    const note = mc ? _('Monte Carlo: {paths} paths, seed {seed}; uncertain drivers: {drivers}.', { paths: GP.fmt(mc.paths, 0), seed: mc.seed }) : '';
    GP.setHTML(document.getElementById('rm-mc-note'), mc ? fillHTML(note, { drivers: GP.join(mc.drawn.map(driver), _(', ')) }) : '');
  }

  const CHOOSE = N_('choose a scenario other than the baseline');
  async function drawWaterfall() {
    const year = document.getElementById('rm-year').value;
    const box = 'chart-waterfall';
    if (S.focus === 'baseline' || !S.runs.baseline) { GP.chart(box, { title: { text: _(CHOOSE), left: 'center', top: 'middle', textStyle: { fontSize: 13, color: '#888' } } }); return; }
    const d = await GP.api(`/api/scenarios/${encodeURIComponent(S.focus)}/decompose?against=baseline&year=${year}`);
    const keys = Object.keys(d.additive);
    const cats = [_('baseline scenario'), ...keys.map((k) => (GP.zh() ? d.labels[k].zh : d.labels[k].en)), _('this scenario')];
    let run = d.against_co2_t; const base = [0]; const up = [W(d.against_co2_t)]; const down = [null];
    keys.forEach((k) => { const v = d.additive[k]; const lo = Math.min(run, run + v); base.push(W(lo)); if (v >= 0) { up.push(W(v)); down.push(null); } else { up.push(null); down.push(W(-v)); } run += v; });
    base.push(0); up.push(W(d.co2_t)); down.push(null);
    GP.chart(box, {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, formatter: (ps) => GP.markup(GP.join(ps.filter((p) => p.seriesName !== 'base' && p.value !== null).map((p) => p.name + ': ' + _('{v} 10⁴ t', { v: (p.seriesName === 'down' ? '−' : '') + GP.fmt(p.value, 2) })), html`<br>`)) },
      grid: { left: 60, right: 10, top: 20, bottom: 70 },
      xAxis: { type: 'category', data: cats, axisLabel: { interval: 0, rotate: 30, fontSize: 11 } }, yAxis: { type: 'value', name: _('10⁴ tCO₂') },
      series: [
        { name: 'base', type: 'bar', stack: 'w', data: base, itemStyle: { color: 'transparent' }, silent: true },
        { name: 'up', type: 'bar', stack: 'w', data: up, itemStyle: { color: '#c0392b' }, label: { show: true, position: 'top', formatter: (p) => (p.value ? GP.fmt(p.value, 1) : '') } },
        { name: 'down', type: 'bar', stack: 'w', data: down, itemStyle: { color: '#2f855a' }, label: { show: true, position: 'bottom', formatter: (p) => (p.value ? '−' + GP.fmt(p.value, 1) : '') } },
      ],
    });
  }

  async function drawWedge() {
    if (S.focus === 'baseline' || !S.runs.baseline) { GP.chart('chart-wedge', { title: { text: _(CHOOSE), left: 'center', top: 'middle', textStyle: { fontSize: 13, color: '#888' } } }); return; }
    const d = await GP.api(`/api/scenarios/${encodeURIComponent(S.focus)}/wedge?against=baseline`);
    GP.chart('chart-wedge', {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: tenKt }, legend: { bottom: 0, itemWidth: 12, textStyle: { fontSize: 11 } },
      grid: { left: 60, right: 10, top: 30, bottom: 90 }, xAxis: { type: 'category', data: d.years.map(String) }, yAxis: { type: 'value', name: _('10⁴ tCO₂') },
      series: Object.keys(d.effects).map((k) => ({ name: GP.zh() ? d.labels[k].zh : d.labels[k].en, type: 'bar', stack: 'e', barCategoryGap: '20%', itemStyle: { color: FACTOR_COLORS[k] }, data: d.effects[k].map(W) })),
    });
  }

  function drawHistory() {
    const dec = S.history && S.history.decomposition;
    if (!dec || dec.error) { GP.chart('chart-history-lmdi', { title: { text: dec ? dec.error : '', left: 'center', top: 'middle', textStyle: { fontSize: 12, color: '#888' } } }); return; }
    const links = [...dec.chained, dec.whole];
    const keys = Object.keys(dec.whole.additive);
    const span = { from: dec.whole.from, to: dec.whole.to };
    const made = dec.illustrative_years || [];
    const title = _('Why emissions moved {from}–{to} (park above-scale industry)', span);
    document.getElementById('rm-history-title').textContent = made.length ? _('{title} ({years}: illustrative data)', { title, years: GP.list(made.map(String)) }) : title;
    GP.chart('chart-history-lmdi', {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: tenKt }, legend: { bottom: 0, itemWidth: 12, textStyle: { fontSize: 11 } },
      grid: { left: 60, right: 10, top: 30, bottom: 75 }, xAxis: { type: 'category', data: links.map((d) => `${d.from}→${d.to}`) }, yAxis: { type: 'value', name: _('10⁴ tCO₂') },
      series: [...keys.map((k) => ({ name: GP.zh() ? dec.labels[k].zh : dec.labels[k].en, type: 'bar', itemStyle: { color: FACTOR_COLORS[k] }, data: links.map((d) => W(d.additive[k])) })),
        { name: _('total change'), type: 'scatter', symbol: 'diamond', symbolSize: 14, itemStyle: { color: '#000' }, data: links.map((d) => W(d.total_change)) }],
    });
  }

  async function drawSinks() {
    const y = S.runs[S.focus] ? S.runs[S.focus].base_year : 2020;
    const sk = await GP.api('/api/sinks?year=' + y);
    const types = sk.by_type;
    const sd = sk.stock_difference || { by_type: [] };
    GP.chart('chart-sinks', {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v) => _('{v} 10⁴ t a year', { v: GP.fmt(v, 2) }) }, legend: { top: 0 },
      grid: { left: 90, right: 20, top: 30, bottom: 30 }, yAxis: { type: 'category', data: types.map((t) => (GP.zh() ? t.name_zh : t.name_en)) }, xAxis: { type: 'value', name: _('10⁴ tCO₂ a year') },
      series: [
        { name: _('gain–loss ({year} forest inventory)', { year: sk.inventory_year }), type: 'bar', itemStyle: { color: '#6d8f3b' }, data: types.map((t) => W(t.removals_tco2)) },
        { name: _('stock difference {from}–{to}', { from: sd.from || '', to: sd.to || '' }), type: 'bar', itemStyle: { color: '#a3c47a' }, data: types.map((t) => { const x = sd.by_type.find((b) => b.forest_type === t.forest_type); return x ? W(x.removals_tco2) : null; }) },
      ],
    });
    const n = {
      total: _('Total'),
      rest: fillHTML(_('10⁴ tCO₂ a year over {area} ha of forest land; parameters {set} v{version} ({statuses}).', {
        area: GP.fmt(sk.area_ha, 0), version: sk.parameter_set.version, statuses: GP.list(sk.parameter_statuses.map(GP.factorStatus)) }), { set: GP.name(sk.parameter_set.code) }),
      unconfirmed: _("Some parameters are unconfirmed or assumed; replace them with the forestry bureau's figures."),
      illustrative: _('The demo forest land is illustrative.'),
    };
    GP.setHTML(document.getElementById('rm-sink-note'), html`${n.total} <b>${GP.fmt(W(sk.removals_tco2), 2)}</b> ${n.rest}${
      sk.unconfirmed ? html`<span class="warn"> ${n.unconfirmed}</span>` : ''}${
      sk.illustrative ? html`<span class="warn"> ${n.illustrative}</span>` : ''}`);
    const lg = await GP.api('/api/sinks/projects');
    GP.setHTML(document.querySelector('#rm-projects tbody'), html`${lg.projects.map((p) => html`<tr><td>${GP.name(p.code)} ${GP.name(p.name)}</td><td>${GP.name(p.methodology)}</td><td class="num">${GP.fmt(p.area_ha, 0)}</td><td>${p.crediting_start} – ${p.crediting_end}</td>
      <td class="num">${GP.fmt(p.estimated_tco2_per_yr, 0)}</td><td class="num">${GP.fmt(p.monitored_estimated_tco2, 0)}</td><td class="num">${GP.fmt(p.verified_tco2, 0)}</td><td class="num">${GP.fmt(p.issued_credits_tco2, 0)}</td><td class="num">${GP.fmt(p.retired_credits_tco2, 0)}</td><td>${SINK_PROJECT_STATUS[p.status] ? _(SINK_PROJECT_STATUS[p.status]) : p.status}</td></tr>`)}`);
    document.getElementById('rm-ledger-note').textContent = (lg.note || (GP.zh() ? lg.note_zh : lg.note_en)) + ' ' + _('The demo projects are illustrative.');
  }

  const STATUSES = ['confirmed', 'secondary', 'unconfirmed', 'assumed', 'derived'];
  async function drawParameters() {
    const ps = await GP.api('/api/sinks/parameters');
    const staff = document.body.dataset.staff === '1';
    GP.setHTML(document.querySelector('#rm-params-table tbody'), html`${ps.rows.map((r, i) => html`<tr data-i="${i}" data-type="${r.forest_type}" data-parameter="${r.parameter}">
      <td>${r.forest_type_name || r.forest_type}</td><td>${GP.label('parameter', r.parameter)}</td>
      <td class="num">${staff ? html`<input name="value" type="number" step="any" value="${r.value}" data-orig="${r.value}">` : GP.fmt(r.value, 4)}</td><td>${unit(r.unit)}</td>
      <td class="${r.status === 'unconfirmed' || r.status === 'assumed' ? 'warn' : ''}">${staff ? html`<select name="status">${STATUSES.map((x) => html`<option value="${x}" ${x === r.status ? 'selected' : ''}>${GP.factorStatus(x)}</option>`)}</select>` : GP.factorStatus(r.status)}</td>
      <td>${staff ? html`<input name="source" value="${r.source_table}" data-orig="${r.source_table}" translate="no">` : source(r.source_table)}</td></tr>`)}`);
    GP.setHTML(document.querySelector('#rm-params summary'), fillHTML(_('Parameters (factor set {code} v{version})', { version: ps.version }), { code: GP.name(ps.code) }));
    const save = document.getElementById('rm-params-save');
    if (save) save.onclick = async () => {
      const changes = [...document.querySelectorAll('#rm-params-table tbody tr')].filter((tr) => {
        const v = tr.querySelector('input[name=value]'); const src = tr.querySelector('input[name=source]');
        return v.value !== v.dataset.orig || src.value !== src.dataset.orig || tr.querySelector('select').value !== ps.rows[+tr.dataset.i].status;
      }).map((tr) => ({ forest_type: tr.dataset.type, parameter: tr.dataset.parameter, value: Number(tr.querySelector('input[name=value]').value),
        status: tr.querySelector('select').value, source_table: tr.querySelector('input[name=source]').value }));
      const out = document.getElementById('rm-params-result');
      try {
        const r = await post('/api/sinks/parameters', { changes }, 'PUT');
        const saved = fillHTML(_('Saved as {code} v{version}', { version: r.version }), { code: GP.name(r.code) });
        GP.setHTML(out, html`<span class="good">${saved}</span>`);
        await GP.roadmapPage(S.focus);
      } catch (e) { GP.setHTML(out, html`<span class="bad">${e.message}</span>`); }
    };
    const imp = document.getElementById('rm-sink-import');
    if (imp) imp.onsubmit = async (ev) => {
      ev.preventDefault();
      const r = await GP.fetch('/api/sinks/import', { method: 'POST', body: new FormData(imp), credentials: 'same-origin', headers: { 'X-CSRF-Token': document.body.dataset.csrf } });
      const out = await r.json();
      GP.setHTML(document.getElementById('rm-sink-import-result'), GP.importResult(r.ok, out));
      if (r.ok) await GP.roadmapPage(S.focus);
    };
  }

  // ---------------------------------------------------------------- the editor
  const FIELDS = {
    g: [['g1', 2021], ['g2', 2026], ['g3', 2031]], i: [['i1', 2021], ['i2', 2026], ['i3', 2031]],
  };
  function prefill(spec) {
    const d = spec.resolved.drivers || {};
    const f = document.getElementById('rm-form');
    const set = (name, v) => { f.elements[name].value = v === undefined || v === null ? '' : +v.toFixed(4); f.elements[name].dataset.orig = f.elements[name].value; };
    const growthAt = (p, y) => { if (!p || !p.growth) return undefined; const ks = Object.keys(p.growth).map(Number).filter((k) => k <= y).sort((a, b) => a - b); return ks.length ? 100 * p.growth[ks[ks.length - 1]] : 0; };
    FIELDS.g.forEach(([n, y]) => set(n, growthAt(d.gdp, y)));
    const ei = d.energy_intensity || {};
    FIELDS.i.forEach(([n, y]) => set(n, growthAt(ei.industry || ei['*'], y)));
    const tg = (p, y, k = 1) => (p && p.targets && p.targets[y] !== undefined ? k * p.targets[y] : undefined);
    const el = ((d.carrier_mix || {}).industry || {}).electricity;
    set('e30', tg(el, 2030, 100)); set('e60', tg(el, 2060, 100));
    set('grid30', tg(d.grid_factor, 2030)); set('grid60', tg(d.grid_factor, 2060));
    const pv = (d.local_renewables || {}).pv;
    set('pv30', tg(pv, 2030, 1e-3)); set('pv60', tg(pv, 2060, 1e-3));
    set('ccus60', tg((d.ccus || {}).industry, 2060, 100));
  }
  function overrides() {
    const f = document.getElementById('rm-form');
    const v = (n) => (f.elements[n].value === '' ? null : Number(f.elements[n].value));
    const changed = (...ns) => ns.some((n) => f.elements[n].value !== (f.elements[n].dataset.orig ?? ''));
    const d = {};
    const growth = (fields) => Object.fromEntries(fields.filter(([n]) => v(n) !== null).map(([n, y]) => [y, v(n) / 100]));
    if (changed('g1', 'g2', 'g3')) d.gdp = { growth: growth(FIELDS.g) };
    if (changed('i1', 'i2', 'i3')) d.energy_intensity = { industry: { growth: growth(FIELDS.i) } };
    const targets = (pairs) => Object.fromEntries(pairs.filter(([n]) => v(n) !== null).map(([n, y, k]) => [y, v(n) * k]));
    if (changed('e30', 'e60')) d.carrier_mix = { industry: { electricity: { targets: targets([['e30', 2030, 0.01], ['e60', 2060, 0.01]]) } } };
    if (changed('grid30', 'grid60')) d.grid_factor = { targets: targets([['grid30', 2030, 1], ['grid60', 2060, 1]]) };
    if (changed('pv30', 'pv60')) d.local_renewables = { pv: { targets: targets([['pv30', 2030, 1000], ['pv60', 2060, 1000]]) } };
    if (changed('ccus60')) d.ccus = { industry: { targets: { 2030: 0, ...targets([['ccus60', 2060, 0.01]]) } } };
    return d;
  }
  async function onParent() {
    const code = document.getElementById('rm-parent').value;
    prefill(await GP.api('/api/scenarios/' + encodeURIComponent(code)));
  }
  async function onPreview(ev) {
    ev.preventDefault();
    const out = document.getElementById('rm-form-result');
    try {
      S.preview = await post('/api/scenarios/preview', { parent: document.getElementById('rm-parent').value, drivers: overrides() });
      const done = _('Re-run done: peak {peak}, plateau {plateau}, net zero {neutral}', {
        peak: S.preview.peak_year, plateau: S.preview.plateau ? S.preview.plateau.join('–') : '–', neutral: S.preview.neutral_year || '–' });
      GP.setHTML(out, html`<span class="good">${done}</span>`);
      drawMain(); drawTable();
    } catch (e) { GP.setHTML(out, html`<span class="bad">${e.message}</span>`); }
  }
  async function onSave() {
    const f = document.getElementById('rm-form');
    const out = document.getElementById('rm-form-result');
    try {
      const code = f.elements.code.value.trim();
      if (!/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(code)) {
        const need = _('Give the scenario a code to save it under: lower-case letters, digits, - or _, e.g. my-plan.');
        GP.setHTML(out, html`<span class="bad">${need}</span>`);
        f.elements.code.focus();
        return;
      }
      await post('/api/scenarios/' + encodeURIComponent(code), { name_zh: f.elements.name_zh.value || code, parent: document.getElementById('rm-parent').value, drivers: overrides() }, 'PUT');
      const saved = fillHTML(_('Saved {code}'), { code: GP.name(code) });
      GP.setHTML(out, html`<span class="good">${saved}</span>`);
      S.preview = null; S.focus = code;
      await GP.roadmapPage(code);
    } catch (e) { GP.setHTML(out, html`<span class="bad">${e.message}</span>`); }
  }

  GP.roadmapPage = async (focus) => {
    try {
      S.list = await GP.api('/api/scenarios');
      const codes = S.list.map((s) => s.code);
      if (!codes.length) {
        const box = document.getElementById('page-error'); box.hidden = false;
        box.textContent = _("No scenarios yet: run greenpark demo for the plan's presets, or create your own with greenpark scenario save.");
        document.body.dataset.ready = '1';
        return;
      }
      S.focus = focus || S.focus || (codes.includes('peak-2030') ? 'peak-2030' : codes[0]);
      const runs = await Promise.all(codes.map((c) => GP.api(`/api/scenarios/${encodeURIComponent(c)}/run`)));
      S.runs = Object.fromEntries(codes.map((c, i) => [c, runs[i]]));
      const b = runs[0];
      S.history = await GP.api('/api/scenarios/history?scope=' + encodeURIComponent(b.scope));
      document.getElementById('rm-base').textContent = _("Base year: {scope} {year} inventory (CO₂ {co2} 10⁴ t); the plan's 4.2 pathways computed from the park's own inventory.", {
        scope: GP.zh() ? b.lineage.base.scope_name_zh : b.lineage.base.scope_name_en, year: b.base_year, co2: GP.fmt(W(b.lineage.base.co2_t), 2) });
      const options = S.list.map((s) => ({ value: s.code, label: nameOf(s), name: typed(s) }));
      const sel = document.getElementById('rm-focus');
      GP.fillSelect(sel, options, S.focus);
      sel.onchange = () => GP.roadmapPage(sel.value);
      const par = document.getElementById('rm-parent');
      GP.fillSelect(par, options, S.focus);
      par.onchange = onParent;
      document.getElementById('rm-form').onsubmit = onPreview;
      const save = document.getElementById('rm-save'); if (save) save.onclick = onSave;
      document.getElementById('rm-year').onchange = drawWaterfall;
      ['csv', 'xlsx'].forEach((k) => (document.getElementById('rm-' + k).href = `/api/scenarios/export.${k}?codes=${encodeURIComponent(codes.join(','))}`));
      if (!S.mc[S.focus]) S.mc[S.focus] = await GP.api(`/api/scenarios/${encodeURIComponent(S.focus)}/montecarlo?paths=10000`);
      drawMain(); drawTable();
      await Promise.all([drawWaterfall(), drawWedge(), drawSinks(), drawParameters(), onParent()]);
      drawHistory();
      await GP.ready();
      for (const c of codes) { // the other scenarios' probabilities, after the page is drawn
        if (!S.mc[c]) { S.mc[c] = await GP.api(`/api/scenarios/${encodeURIComponent(c)}/montecarlo?paths=10000`); drawTable(); }
      }
      document.body.dataset.mcReady = '1';
    } catch (e) {
      const box = document.getElementById('page-error'); box.hidden = false; box.textContent = e.message; document.body.dataset.ready = '1';
    }
  };

  GP.pages.roadmap = () => GP.roadmapPage();
})();
