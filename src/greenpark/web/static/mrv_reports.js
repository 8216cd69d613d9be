/* greenpark annual GHG reports (/mrv/reports): the reports the user may read with their versions,
   status and checks; the form an enterprise fills (rows per section, measured/default toggles that
   fill the library's default); the Excel form; the officers' review (accept / return with comment).
   API: /api/mrv/reports… (web/mrv_reports_api.py). */
(function () {
  'use strict';
  const GP = window.GP;
  const _ = GP._;
  const N_ = (s) => s;
  const html = GP.html;
  const STATUS = { submitted: N_('submitted'), returned: N_('returned'), accepted: N_('accepted'), verified: N_('verified'), superseded: N_('superseded') };
  const STATUS_CLASS = { submitted: 'info', returned: 'critical', accepted: 'confirmed', verified: 'confirmed', superseded: '' };
  const RESULT = { pass: N_('pass'), warn: N_('warning'), fail: N_('fail'), none: N_('nothing to compare') };
  const RESULT_CLASS = { pass: 'confirmed', warn: 'warning', fail: 'critical', none: '' };
  const CHECK = { evidence_sum: N_('annual = sum of the months'), evidence_months: N_('months with evidence'), previous_year: N_('against the previous year'), metered: N_('against metered energy') };
  const SECTION = { combustion: N_('Fuel combustion'), process: N_('Process emissions'), electricity: N_('Purchased electricity'), heat: N_('Purchased heat'), output: N_('Output') };
  const SRC = { measured: N_('measured'), default: N_('default') };
  const W = { version: N_('version {version}'), remove: N_('Remove'), open: N_('Open'), row: N_('row {row}'), copy: N_('Start the next version from this one'), copied: N_('The form below holds this version: correct it and submit.') };
  // the grid factor's reference names the year of the factor used (data); a later report year carries it forward
  const carried = (ref, year) => {
    const m = /\b(\d{4}):/.exec(ref || '');
    return m && Number(m[1]) !== Number(year) ? ' ' + _('({year} has no published grid factor yet: that of {factor_year} is used)', { year, factor_year: m[1] }) : '';
  };
  const say = (id, text) => { const el = document.getElementById(id); if (el) el.textContent = text; };
  const state = { defaults: null, role: '', year: null, carriers: {} };

  const body = () => document.body.dataset;
  const badge = (code, words, classes) => html`<span class="status ${classes[code] || ''}">${_(words[code] || code)}</span>`;
  const t = (v) => GP.fmt(v, 0); // whole tonnes, as the guidelines report them
  // a line's or a check's item: a carrier's name (a fuel, electricity, heat), a process source's
  // name when the year's defaults are loaded, else as the enterprise wrote it (a meter, a product)
  const itemName = (section, code) => {
    const c = state.carriers[code];
    if (c && section !== 'output') return GP.zh() ? c.name_zh : c.name_en;
    const p = section === 'process' && state.defaults && state.defaults.process[code];
    return p ? (GP.zh() ? p.name_zh : p.name_en) : code;
  };
  const entName = (e) => (e ? html`<span translate="no">${e.name}</span> <span class="note" translate="no">${e.code}</span>` : '');

  async function send(url, opts) {
    const r = await GP.fetch(url, opts);
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    return { ok: r.ok, status: r.status, data };
  }

  // ---------------------------------------------------------------- the list and one report
  async function loadList() {
    const year = document.getElementById('filter-year').value;
    const status = document.getElementById('filter-status').value;
    const q = new URLSearchParams();
    if (year) q.set('year', year);
    if (status) q.set('status', status);
    const rows = await GP.api('/api/mrv/reports?' + q);
    const w = { open: _('Open'), none: _('No reports yet.') };
    const tb = document.querySelector('#reports-table tbody');
    if (!rows.length) { GP.setHTML(tb, html`<tr class="empty"><td colspan="8" class="note">${w.none}</td></tr>`); GP.table(tb.parentElement); return; }
    GP.setHTML(tb, rows.map((r) => html`<tr data-report="${r.id}">
      <td>${entName(r.enterprise)}</td><td class="num">${r.year}</td><td class="num">${r.version}</td>
      <td data-export="${r.status}">${badge(r.status, STATUS, STATUS_CLASS)}</td>
      <td class="num" data-sort="${r.totals.total_co2_t}">${t(r.totals.total_co2_t)}</td>
      <td class="num" data-sort="${r.totals.total_excl_purchased_co2_t}">${t(r.totals.total_excl_purchased_co2_t)}</td>
      <td><span translate="no">${r.submitted_by}</span> <span class="note">${GP.whenDay(r.submitted_utc)}</span></td>
      <td><button type="button" class="secondary open-report" data-id="${r.id}">${w.open}</button></td></tr>`));
    tb.querySelectorAll('button.open-report').forEach((b) => b.addEventListener('click', () => showReport(b.dataset.id)));
    GP.table(tb.parentElement); // search, sort, count and export of what is shown
  }

  function linesTable(lines) {
    const w = {
      section: _('Section'), item: _('Item'), qty: _('Quantity'), ncv: _('Low calorific value (GJ/unit)'), cc: _('Carbon content (tC/GJ)'),
      of: _('Oxidation rate'), factor: _('Emission factor'), ref: _('Source of the factor'), co2: _('CO₂ (t)'), tce: _('Standard coal (tce)'),
    };
    const src = (v, s, d) => (v === null || v === undefined ? '' : html`${GP.fmt(v, d)} <span class="note">${_(SRC[s] || s)}</span>`);
    return html`<table class="data"><thead><tr><th>${w.section}</th><th>${w.item}</th><th class="num">${w.qty}</th><th>${w.ncv}</th><th>${w.cc}</th><th>${w.of}</th><th>${w.factor}</th><th>${w.ref}</th><th class="num">${w.co2}</th><th class="num">${w.tce}</th></tr></thead>
      <tbody>${lines.map((ln) => html`<tr><td>${_(SECTION[ln.section] || ln.section)}</td><td translate="no">${itemName(ln.section, ln.item)}</td>
        <td class="num">${GP.fmt(ln.quantity, 3)} ${GP.unit(ln.unit)}</td>
        <td>${src(ln.ncv_gj_per_unit, ln.ncv_source, 3)}</td><td>${src(ln.carbon_content_tc_per_gj, ln.carbon_content_source, 5)}</td><td>${src(ln.oxidation_fraction, ln.oxidation_source, 2)}</td>
        <td>${ln.factor === null ? '' : html`${GP.fmt(ln.factor, 5)} <span class="note">${GP.unit(ln.factor_unit)}</span>`}</td>
        <td class="note" translate="no">${ln.factor_ref}</td><td class="num">${ln.co2_t === null ? '' : GP.fmt(ln.co2_t, 2)}</td><td class="num">${ln.energy_tce === null ? '' : GP.fmt(ln.energy_tce, 2)}</td></tr>`)}</tbody></table>`;
  }

  // a check's figures with their unit: energy in the carrier's unit, months whole, a year's total in t CO₂
  function amount(c, v) {
    if (v === null || v === undefined) return '–';
    if (c.check === 'evidence_months') return GP.fmt(v, 0);
    if (c.check === 'previous_year') return html`${GP.fmt(v, 0)} ${_('t CO₂')}`;
    const carrier = state.carriers[c.item];
    return html`${GP.fmt(v, 2)} ${carrier ? GP.unit(carrier.unit) : ''}`;
  }

  function checksTable(checks) {
    const w = { check: _('Check'), item: _('Item'), result: _('Result'), rep: _('Reported'), ref: _('Reference'), diff: _('Difference'), tol: _('Tolerance'), reason: _('A reason for the change is asked for.') };
    return html`<table class="data"><thead><tr><th>${w.check}</th><th>${w.item}</th><th>${w.result}</th><th class="num">${w.rep}</th><th class="num">${w.ref}</th><th class="num">${w.diff}</th><th class="num">${w.tol}</th></tr></thead>
      <tbody>${checks.map((c) => html`<tr><td>${_(CHECK[c.check] || c.check)}</td><td translate="no">${itemName('', c.item)}</td><td>${badge(c.result, RESULT, RESULT_CLASS)}${c.detail && c.detail.ask_reason ? html`<br><span class="note warn">${w.reason}</span>` : ''}${c.detail && c.detail.missing_months && c.detail.missing_months.length ? html`<br><span class="note" translate="no">${c.detail.missing_months.join(', ')}</span>` : ''}</td>
        <td class="num">${amount(c, c.reported)}</td><td class="num">${amount(c, c.reference)}</td><td class="num">${GP.pct(c.difference_fraction)}</td><td class="num">${GP.pct(c.tolerance)}</td></tr>`)}</tbody></table>`;
  }

  async function showReport(id) {
    const d = await GP.api('/api/mrv/reports/' + id);
    const box = document.getElementById('report-detail');
    box.hidden = false;
    box.dataset.report = String(d.id);
    const title = _('{year} annual GHG report, version {version}', { year: d.year, version: d.version });
    GP.setHTML(document.getElementById('report-title'), html`${title} · ${entName(d.enterprise)} ${badge(d.status, STATUS, STATUS_CLASS)}`);
    const tt = d.totals;
    const w = {
      totals: _('Emissions (tonnes of CO₂, whole tonnes)'), comb: _('Fuel combustion'), proc: _('Process emissions'), el: _('Purchased electricity'), heat: _('Purchased heat'),
      excl: _('Total without purchased electricity and heat'), total: _('Total'), energy: _('Energy (tce, calorific equivalent)'), grid: _('Grid emission factor'),
      lines: _('Activity data and factors'), checks: _('Consistency checks'), history: _('Versions'), comment: _('Review comment'), unit: _('t CO₂'),
    };
    const history = d.history.map((h) => html`<li>${_(W.version, { version: h.version })}: ${badge(h.status, STATUS, STATUS_CLASS)} ${t(h.totals.total_co2_t)} ${w.unit} <span class="note">${GP.whenDay(h.submitted_utc)}</span>${h.id !== d.id ? html` <button type="button" class="secondary open-report" data-id="${h.id}">${_(W.open)}</button>` : ''}</li>`);
    GP.setHTML(document.getElementById('report-body'), html`
      <h3>${w.totals}</h3>
      <table class="data"><tbody>
        <tr><td>${w.comb}</td><td class="num">${t(tt.combustion_co2_t)}</td></tr><tr><td>${w.proc}</td><td class="num">${t(tt.process_co2_t)}</td></tr>
        <tr><td>${w.el}</td><td class="num">${t(tt.electricity_co2_t)}</td></tr><tr><td>${w.heat}</td><td class="num">${t(tt.heat_co2_t)}</td></tr>
        <tr><th>${w.excl}</th><th class="num">${t(tt.total_excl_purchased_co2_t)}</th></tr><tr><th>${w.total}</th><th class="num" id="report-total">${t(tt.total_co2_t)}</th></tr>
        <tr><td>${w.energy}</td><td class="num">${GP.fmt(tt.energy_tce, 2)}</td></tr></tbody></table>
      ${d.grid_factor_ref ? html`<p class="note">${w.grid}: <span translate="no">${d.grid_factor_ref}</span>${carried(d.grid_factor_ref, d.year)}</p>` : ''}
      ${d.review_comment ? html`<p class="warn">${w.comment}: <span translate="no">${d.review_comment}</span></p>` : ''}
      <h3>${w.lines}</h3>${linesTable(d.lines)}
      <h3>${w.checks}</h3>${checksTable(d.checks)}
      <h3>${w.history}</h3><ul>${history}</ul>
      ${document.getElementById('report-form') && d.status !== 'verified' ? html`<p><button type="button" class="secondary" id="copy-to-form">${_(W.copy)}</button> <span class="note" id="copy-note"></span></p>` : ''}`);
    const copy = document.getElementById('copy-to-form');
    if (copy) copy.addEventListener('click', () => intoForm(d).catch((e) => say('copy-note', e.message)));
    box.querySelectorAll('button.open-report').forEach((b) => b.addEventListener('click', () => showReport(b.dataset.id)));
    document.getElementById('review-form').hidden = !d.may_review;
    document.getElementById('review-message').textContent = '';
    box.scrollIntoView({ block: 'start' });
  }

  async function review(decision) {
    const id = document.getElementById('report-detail').dataset.report;
    const comment = document.getElementById('review-comment').value;
    const r = await send('/api/mrv/reports/' + id + '/review', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ decision, comment }) });
    const msg = document.getElementById('review-message');
    if (!r.ok) { msg.textContent = (r.data && r.data.detail) || String(r.status); msg.className = 'note bad'; return; }
    await loadList();
    await showReport(id); // (clears the message: say it after)
    msg.textContent = decision === 'accept' ? _('The report is accepted.') : _('The report is returned to the enterprise with your comment.');
    msg.className = 'note ok';
  }

  // ---------------------------------------------------------------- the form
  const num = (name, value, attrs = {}) => html`<input type="number" step="any" min="0" name="${name}" value="${value ?? ''}" class="num" ${attrs.hidden ? 'hidden' : ''}>`;
  const srcSelect = (name) => html`<select name="${name}" class="src"><option value="default">${_(SRC.default)}</option><option value="measured">${_(SRC.measured)}</option></select>`;
  const paramCell = (srcName, valName) => html`<td>${srcSelect(srcName)} ${num(valName, '')}</td>`;
  const remove = () => html`<td><button type="button" class="secondary remove-row">${_(W.remove)}</button></td>`;

  function rowMarkup(section) {
    const d = state.defaults;
    if (section === 'combustion') {
      const fuels = Object.entries((d && d.fuel_names) || {}).map(([code, n]) => html`<option value="${code}">${GP.zh() ? n.name_zh : n.name_en}</option>`);
      return html`<tr><td><select name="carrier">${fuels}</select></td><td>${num('quantity', '')}</td>${paramCell('ncv_source', 'ncv_gj_per_unit')}${paramCell('carbon_content_source', 'carbon_content_tc_per_gj')}${paramCell('oxidation_source', 'oxidation_fraction')}${remove()}</tr>`;
    }
    if (section === 'process') {
      const procs = Object.values((d && d.process) || {}).map((p) => html`<option value="${p.code}">${GP.zh() ? p.name_zh : p.name_en}</option>`);
      return html`<tr><td><select name="source">${procs}</select></td><td>${num('quantity', '')}</td>${paramCell('factor_source', 'factor')}${remove()}</tr>`;
    }
    if (section === 'electricity') {
      return html`<tr><td><input name="item" maxlength="64"></td><td>${num('quantity', '')}</td><td class="note grid-factor">${d ? GP.fmt(d.grid_factor_tco2_per_mwh, 4) : ''}</td>${remove()}</tr>`;
    }
    if (section === 'heat') return html`<tr><td><input name="item" maxlength="64"></td><td>${num('quantity', '')}</td>${paramCell('factor_source', 'factor')}${remove()}</tr>`;
    return html`<tr><td><input name="product" maxlength="64"></td><td>${num('quantity', '')}</td><td><input name="unit" maxlength="32"></td>${remove()}</tr>`;
  }

  // a default parameter shows the library's value (read-only); measured takes the user's
  function fillDefaults(tr, section) {
    const d = state.defaults;
    if (!d) return;
    tr.querySelectorAll('select.src').forEach((sel) => {
      const input = sel.nextElementSibling;
      let def = null;
      if (section === 'combustion') {
        const f = d.fuels[tr.querySelector('[name=carrier]').value] || {};
        def = { ncv_source: f.ncv_gj_per_unit, carbon_content_source: f.carbon_content_tc_per_gj, oxidation_source: f.oxidation_fraction }[sel.name];
      } else if (section === 'process') {
        def = (d.process[tr.querySelector('[name=source]').value] || {}).factor;
      } else if (section === 'heat') {
        def = d.heat_factor_tco2_per_gj;
      }
      if (sel.value === 'default') { input.value = def ?? ''; input.readOnly = true; } else { input.readOnly = false; }
    });
  }

  function addRow(section) {
    const tb = document.querySelector(`#sec-${section} tbody`);
    GP.addHTML(tb, rowMarkup(section));
    const tr = tb.lastElementChild;
    tr.querySelector('.remove-row').addEventListener('click', () => tr.remove());
    tr.querySelectorAll('select').forEach((s) => s.addEventListener('change', () => fillDefaults(tr, section)));
    fillDefaults(tr, section);
  }

  // a returned (or any earlier) version into the form, to be corrected as the next version
  async function intoForm(d) {
    const set = (id, v) => { const el = document.getElementById(id); if (el) el.value = v ?? ''; };
    set('form-year', d.year);
    if (d.enterprise && document.getElementById('form-enterprise')) set('form-enterprise', d.enterprise.code);
    set('form-contact', d.contact); set('form-guideline', d.guideline); set('form-note', d.note);
    await loadDefaults();
    clearForm();
    for (const ln of d.lines) {
      const section = ln.section;
      if (!document.getElementById(`sec-${section}`)) continue;
      addRow(section);
      const tr = document.querySelector(`#sec-${section} tbody`).lastElementChild;
      const put = (n, v) => { const el = tr.querySelector(`[name=${n}]`); if (el && v !== null && v !== undefined) el.value = v; };
      put(section === 'combustion' ? 'carrier' : section === 'process' ? 'source' : section === 'output' ? 'product' : 'item', ln.item);
      put('quantity', ln.quantity);
      if (section === 'output') put('unit', ln.unit);
      if (section === 'combustion') {
        [['ncv_source', 'ncv_gj_per_unit'], ['carbon_content_source', 'carbon_content_tc_per_gj'], ['oxidation_source', 'oxidation_fraction']].forEach(([src, val]) => {
          put(src, ln[src] || 'default'); fillDefaults(tr, section);
          if (ln[src] === 'measured') put(val, ln[val]);
        });
      } else if (section === 'process' || section === 'heat') {
        const measured = !ln.factor_ref; // a default factor names where it comes from
        put('factor_source', measured ? 'measured' : 'default'); fillDefaults(tr, section);
        if (measured) put('factor', ln.factor);
      }
    }
    say('copy-note', _(W.copied));
    document.getElementById('report-entry').scrollIntoView({ block: 'start' });
  }

  function clearForm() {
    ['combustion', 'process', 'electricity', 'heat', 'output'].forEach((s) => {
      const tb = document.querySelector(`#sec-${s} tbody`);
      if (tb) GP.setHTML(tb, '');
    });
  }

  async function loadDefaults() {
    const year = document.getElementById('form-year').value;
    if (!year || String(year) === String(state.year)) return;
    state.year = year;
    try {
      state.defaults = await GP.api('/api/mrv/reports/defaults?year=' + encodeURIComponent(year));
    } catch (e) { state.defaults = null; }
    const note = document.getElementById('form-defaults');
    const d = state.defaults;
    // the factors' references are data (a set, its source document), shown as they are
    const w = { grid: _('Grid emission factor'), heat: _('Purchased heat'), tce: _('Energy in tce at the calorific equivalent.'), none: _('No defaults for this year.') };
    GP.setHTML(note, d ? html`${w.grid} <span translate="no">${d.grid_factor_ref}</span>${carried(d.grid_factor_ref, year)} · ${w.heat} <span translate="no">${d.heat_factor_ref}</span> · ${w.tce}` : w.none);
    ['combustion', 'process', 'electricity', 'heat'].forEach((s) => document.querySelectorAll(`#sec-${s} tbody tr`).forEach((tr) => {
      const cell = tr.querySelector('.grid-factor');
      if (cell && d) cell.textContent = GP.fmt(d.grid_factor_tco2_per_mwh, 4);
      fillDefaults(tr, s);
    }));
    updateTemplateLink();
  }

  function collect() {
    const val = (tr, n) => { const el = tr.querySelector(`[name=${n}]`); return el ? el.value : ''; };
    const numOrNull = (tr, n) => { const v = val(tr, n); return v === '' ? null : Number(v); };
    const rows = (s) => [...document.querySelectorAll(`#sec-${s} tbody tr`)];
    const out = {
      year: Number(document.getElementById('form-year').value),
      contact: document.getElementById('form-contact').value,
      guideline: document.getElementById('form-guideline').value,
      note: document.getElementById('form-note').value,
      combustion: rows('combustion').map((tr) => ({
        carrier: val(tr, 'carrier'), quantity: Number(val(tr, 'quantity')),
        ncv_source: val(tr, 'ncv_source'), ncv_gj_per_unit: val(tr, 'ncv_source') === 'measured' ? numOrNull(tr, 'ncv_gj_per_unit') : null,
        carbon_content_source: val(tr, 'carbon_content_source'), carbon_content_tc_per_gj: val(tr, 'carbon_content_source') === 'measured' ? numOrNull(tr, 'carbon_content_tc_per_gj') : null,
        oxidation_source: val(tr, 'oxidation_source'), oxidation_fraction: val(tr, 'oxidation_source') === 'measured' ? numOrNull(tr, 'oxidation_fraction') : null,
      })),
      process: rows('process').map((tr) => ({ source: val(tr, 'source'), quantity: Number(val(tr, 'quantity')), factor_source: val(tr, 'factor_source'), factor: val(tr, 'factor_source') === 'measured' ? numOrNull(tr, 'factor') : null })),
      electricity: rows('electricity').map((tr) => ({ item: val(tr, 'item'), quantity: Number(val(tr, 'quantity')) })),
      heat: rows('heat').map((tr) => ({ item: val(tr, 'item'), quantity: Number(val(tr, 'quantity')), factor_source: val(tr, 'factor_source'), factor: val(tr, 'factor_source') === 'measured' ? numOrNull(tr, 'factor') : null })),
      output: rows('output').map((tr) => ({ product: val(tr, 'product'), quantity: Number(val(tr, 'quantity')), unit: val(tr, 'unit') })),
    };
    const ent = document.getElementById('form-enterprise');
    if (ent && ent.value) out.enterprise = ent.value;
    return out;
  }

  function showErrors(box, data, status) {
    const head = _('Not submitted; nothing was stored.');
    if (data && Array.isArray(data.errors)) {
      const items = data.errors.map((e) => (e.section
        ? html`<li>${_(SECTION[e.section] || e.section)} · ${_(W.row, { row: e.row })} · <code translate="no">${e.field}</code>: ${e.text}</li>`
        : html`<li class="cell-error" data-sheet="${e.sheet || ''}" data-row="${e.row || ''}" data-column="${e.column || ''}">${e.text || e.reason}</li>`)); // the text names file, sheet, row and column
      GP.setHTML(box, html`<div class="card bad"><p>${head}</p><ul>${items}</ul></div>`);
    } else {
      const detail = data && data.detail ? (typeof data.detail === 'string' ? data.detail : JSON.stringify(data.detail)) : String(status);
      GP.setHTML(box, html`<div class="card bad"><p>${head}</p><p translate="no">${detail}</p></div>`);
    }
  }

  async function submitted(box, data) {
    const msg = _('Submitted: version {version}, total {total} t CO₂.', { version: data.version, total: t(data.totals.total_co2_t) });
    GP.setHTML(box, html`<div class="card ok"><p id="submit-ok">${msg}</p></div>`);
    await loadList();
    await showReport(data.report);
  }

  async function submitForm(ev) {
    ev.preventDefault();
    const box = document.getElementById('form-errors');
    const r = await send('/api/mrv/reports', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(collect()) });
    if (!r.ok) { showErrors(box, r.data, r.status); return; }
    clearForm(); // a second click would otherwise send the same figures as another version
    await submitted(box, r.data);
  }

  function updateTemplateLink() {
    const a = document.getElementById('excel-template');
    if (!a) return;
    const q = new URLSearchParams({ year: document.getElementById('form-year').value || String(new Date().getFullYear() - 1), lang: GP.zh() ? 'zh' : 'en' });
    const ent = document.getElementById('form-enterprise');
    if (ent && ent.value) q.set('enterprise', ent.value);
    a.href = '/api/mrv/reports/template.xlsx?' + q;
  }

  async function upload(ev) {
    ev.preventDefault();
    const box = document.getElementById('excel-result');
    const fd = new FormData();
    fd.append('file', document.getElementById('excel-file').files[0]);
    const r = await send('/api/mrv/reports/upload', { method: 'POST', body: fd });
    if (!r.ok) { showErrors(box, r.data, r.status); return; }
    await submitted(box, r.data);
  }

  GP.pages.mrv_reports = async (arg) => {
    state.role = body().role;
    const opts = await GP.api('/api/mrv/options');
    opts.carriers.forEach((c) => { state.carriers[c.code] = c; });
    const lastYear = new Date().getFullYear() - 1;
    const asked = new URLSearchParams(location.search).get('year'); // the inbox's links name the year
    if (/^\d{4}$/.test(asked || '')) document.getElementById('filter-year').value = asked;
    document.getElementById('report-filter').addEventListener('submit', (ev) => { ev.preventDefault(); loadList(); });
    document.getElementById('review-accept').addEventListener('click', () => review('accept'));
    document.getElementById('review-return').addEventListener('click', () => review('return'));
    const form = document.getElementById('report-form');
    if (form) {
      document.getElementById('form-year').value = lastYear;
      form.addEventListener('submit', submitForm);
      document.getElementById('form-year').addEventListener('change', loadDefaults);
      const ent = document.getElementById('form-enterprise');
      if (ent) ent.addEventListener('change', updateTemplateLink);
      document.querySelectorAll('button.add-row').forEach((b) => b.addEventListener('click', () => addRow(b.dataset.section)));
      await loadDefaults();
      document.getElementById('excel-upload').addEventListener('submit', upload);
    }
    await loadList();
    if (arg) await showReport(arg).catch(() => null);
    document.body.dataset.ready = '1';
  };
})();
