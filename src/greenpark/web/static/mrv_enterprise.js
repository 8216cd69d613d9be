/* greenpark plan and monthly evidence (/mrv/enterprise): an enterprise's 12 months of evidence by
   status (/api/mrv/evidence/status, /api/mrv/evidence), the form to submit a month with its files
   (POST /api/mrv/evidence, multipart), and its data quality control plan in versions with the form
   to file a new one (/api/mrv/dqcp). Enterprise users see their own; officers pick an enterprise. */
(function () {
  'use strict';
  const GP = window.GP;
  const _ = GP._;
  const N_ = (s) => s;
  const html = GP.html;
  const STATUS = { on_time: N_('submitted on time'), late: N_('submitted late'), missing: N_('missing, overdue'), not_due: N_('not yet due'), not_required: N_('not given (not required)') };
  const COLOUR = { on_time: '#d9f2e3', late: '#fde8cf', missing: '#f8d7d3', not_due: '#eef2f0', not_required: '#eef2f0' };
  const PARAMETER = {
    fuel_quantity: N_('fuel quantity'), ncv: N_('net calorific value'), carbon_content: N_('carbon content'),
    oxidation_rate: N_('oxidation rate'), purchased_electricity: N_('purchased electricity'), purchased_heat: N_('purchased heat'),
    output: N_('output'), process_input: N_('process input'), energy: N_('energy'),
  };
  const METHOD = { measured: N_('measured'), default: N_('default value'), calculated: N_('calculated'), supplier: N_('from the supplier') };
  const TRIGGER = {
    facilities_changed: N_('facilities changed or a new fuel or material'), better_measurement: N_('new meters or methods, more accurate data'),
    data_error_found: N_('data of the earlier method found wrong'), accuracy_improvement: N_('a change improves the accuracy of reported data'),
    non_compliant: N_('the plan does not comply with the guideline'),
  };
  const PLAN_STATE = { filed: N_('current'), superseded: N_('superseded') };
  const FIELDS = ['parameter', 'item', 'unit', 'method', 'meter', 'accuracy', 'calibration', 'monitoring_frequency', 'recording_frequency', 'missing_data_rule', 'department'];
  const label = (words, code) => (code ? _(words[code] || code) : '');
  let opts = null;
  let current = null; // the chosen enterprise's id

  async function fail(r) {
    const d = await r.json().catch(() => ({}));
    return new Error(typeof d.detail === 'string' ? d.detail : Array.isArray(d.detail) ? d.detail.map((e) => e.msg).join('; ') : String(r.status));
  }
  function result(id, ok, text) { GP.setHTML(document.getElementById(id), html`<p class="${ok ? 'good' : 'bad'}">${text}</p>`); }
  const carrierName = (code) => { const c = opts.carriers.find((x) => x.code === code); return c ? (GP.zh() ? c.name_zh : c.name_en) : code; };
  const year = () => Number(document.getElementById('ent-year').value);
  const monthName = (mo) => _('{year}-{month}', { year: year(), month: String(mo).padStart(2, '0') });

  // ------------------------------------------------------------------ evidence
  async function evidence() {
    const q = new URLSearchParams({ year: year(), enterprise_id: current });
    const [st, rows] = await Promise.all([GP.api('/api/mrv/evidence/status?' + q), GP.api('/api/mrv/evidence?' + q)]);
    const ent = st.enterprises[0];
    const grid = document.getElementById('ev-grid');
    // a month nobody asked for is not overdue: shown grey, not red, where the register does not oblige
    const shown = (c) => (c.status === 'missing' && !(ent && ent.obliged) ? 'not_required' : c.status);
    GP.setHTML(grid, ent ? html`${ent.months.map((c) => html`<div role="listitem" data-month="${c.month}" data-status="${c.status}" style="background:${COLOUR[shown(c)]};border-radius:6px;padding:6px;${shown(c) === 'missing' ? 'border:2px solid #c0392b' : ''}">
        <b>${monthName(c.month)}</b><br><span class="${shown(c) === 'missing' ? 'bad' : ''}">${label(STATUS, shown(c))}</span>
        <br><span class="note">${_('due {date}', { date: c.due_date })}</span>${c.version ? html`<br><span class="note">${_('version {n}', { n: c.version })}</span>` : ''}</div>`)}` : '');
    const obliged = ent && ent.obliged;
    document.getElementById('ev-note').textContent = ent
      ? (obliged ? _('The register of {year} obliges this enterprise to give monthly evidence.', { year: year() }) : _('The register of {year} does not oblige this enterprise to give monthly evidence; it may give it all the same.', { year: year() }))
        + ' ' + _('{missing} months missing, {late} late, {on_time} on time.', ent.counts)
      : '';
    const table = document.getElementById('ev-table');
    GP.setHTML(table.tBodies[0], !rows.length ? html`<tr><td colspan="7" class="note">${_('No month handed in for {year} yet.', { year: year() })}</td></tr>` : html`${rows.map((r) => html`<tr>
      <td class="num" data-sort="${r.month}">${monthName(r.month)}</td><td class="num">${r.version}</td>
      <td>${GP.when(r.submitted_utc)}${r.late ? html` <span class="bad">${_('late')}</span>` : ''}</td><td>${r.due_date}</td>
      <td>${GP.join(r.values.map((v) => html`<span style="white-space:nowrap">${v.parameter === 'energy' ? carrierName(v.item) : label(PARAMETER, v.parameter) + (v.item ? ' ' + v.item : '')} ${GP.fmt(v.value, 3)} ${GP.unit(v.unit)}</span>`), html`<br>`)}</td>
      <td>${GP.join(r.attachments.map((a) => html`<a href="${a.url}" download title="SHA-256 ${a.sha256}" translate="no">${a.filename}</a>`), html`<br>`)}</td>
      <td translate="no">${r.submitted_by}</td></tr>`)}`);
    GP.table(table);
    const today = opts.today.slice(0, 7);
    const months = [];
    for (let mo = 1; mo <= 12; mo += 1) {
      if (`${year()}-${String(mo).padStart(2, '0')}` <= today) months.push(mo);
    }
    GP.setHTML(document.getElementById('ev-month'), html`${months.map((mo) => html`<option value="${mo}">${monthName(mo)}</option>`)}`);
    document.getElementById('ev-submit').disabled = !months.length;
  }

  function paramRow(p = {}) {
    const options = opts.parameters.map((c) => html`<option value="${c}" ${c === p.parameter ? 'selected' : ''}>${label(PARAMETER, c)}</option>`);
    return html`<tr><td><select name="p_parameter"><option value="">–</option>${options}</select></td>
      <td><input name="p_item" maxlength="64" size="12" value="${p.item || ''}"></td>
      <td><input name="p_value" type="number" step="any" min="0"></td>
      <td><input name="p_unit" maxlength="32" size="8" value="${p.unit || ''}"></td></tr>`;
  }

  async function submitMonth(form) {
    const energy = {};
    form.querySelectorAll('input[data-carrier]').forEach((i) => { if (i.value !== '') energy[i.dataset.carrier] = Number(i.value); });
    const parameters = [];
    document.querySelectorAll('#ev-params tbody tr').forEach((tr) => {
      const get = (n) => tr.querySelector(`[name=${n}]`).value;
      if (get('p_parameter') && get('p_value') !== '') parameters.push({ parameter: get('p_parameter'), item: get('p_item'), value: Number(get('p_value')), unit: get('p_unit') });
    });
    const fd = new FormData();
    fd.append('enterprise_id', current);
    fd.append('year', year());
    fd.append('month', form.month.value);
    fd.append('note', form.note.value);
    fd.append('values', JSON.stringify({ energy, parameters }));
    for (const f of document.getElementById('ev-files').files) fd.append('files', f);
    const r = await GP.fetch('/api/mrv/evidence', { method: 'POST', body: fd });
    if (!r.ok) throw await fail(r);
    return r.json();
  }

  // ------------------------------------------------------------------ the plan
  function editRow(p = {}) {
    const sel = (name, codes, words, value) => html`<select name="${name}">${codes.map((c) => html`<option value="${c}" ${c === value ? 'selected' : ''}>${label(words, c)}</option>`)}</select>`;
    const input = (name, size, max) => html`<input name="${name}" size="${size}" maxlength="${max}" value="${p[name] || ''}">`;
    return html`<tr>
      <td>${sel('parameter', opts.parameters, PARAMETER, p.parameter)}</td><td>${input('item', 7, 64)}</td><td>${input('unit', 4, 32)}</td>
      <td>${sel('method', opts.methods, METHOD, p.method)}</td><td>${input('meter', 7, 200)}</td><td>${input('accuracy', 4, 64)}</td>
      <td>${input('calibration', 7, 200)}</td><td>${input('monitoring_frequency', 5, 64)}</td><td>${input('recording_frequency', 5, 64)}</td>
      <td>${input('missing_data_rule', 12, 2000)}</td><td>${input('department', 5, 200)}</td>
      <td><button type="button" class="secondary" data-remove>${_('Remove')}</button></td></tr>`;
  }

  async function plan() {
    const d = await GP.api('/api/mrv/dqcp?' + new URLSearchParams({ enterprise_id: current }));
    const p = d.plan;
    document.getElementById('dqcp-summary').textContent = p
      ? _('Version {v} of {date}, filed by {by}. Boundary: {boundary}', { v: p.version, date: p.valid_from, by: p.filed_by, boundary: p.boundary || '–' })
      : _('No plan filed yet.');
    const params = document.getElementById('dqcp-params');
    GP.setHTML(params.tBodies[0], html`${(p ? p.parameters : []).map((x) => html`<tr>${FIELDS.map((f) => html`<td>${f === 'parameter' ? label(PARAMETER, x[f]) : f === 'method' ? label(METHOD, x[f]) : x[f]}</td>`)}</tr>`)}`);
    GP.table(params);
    GP.setHTML(document.getElementById('dqcp-versions').tBodies[0], !d.versions.length ? html`<tr><td colspan="6" class="note">${_('No plan filed yet.')}</td></tr>` : html`${d.versions.map((v) => html`<tr>
      <td class="num">${v.version}</td><td>${label(PLAN_STATE, v.status)}</td><td>${v.valid_from}</td><td>${label(TRIGGER, v.revision_trigger) || '–'}</td>
      <td>${v.revision_note}</td><td translate="no">${v.filed_by} ${GP.when(v.filed_utc)}</td></tr>`)}`);
    const f = document.getElementById('dqcp-form');
    const first = !d.versions.length;
    GP.setHTML(document.getElementById('dqcp-trigger'), html`${first ? html`<option value="">${_('first version: no trigger')}</option>` : ''}${opts.triggers.map((t) => html`<option value="${t}">${label(TRIGGER, t)}</option>`)}`);
    f.revision_note.required = !first;
    if (p) {
      f.guideline.value = p.guideline; f.boundary.value = p.boundary;
      f.facilities.value = p.facilities.map((x) => [x.code, x.name, x.location, x.sources].join('; ')).join('\n');
    } else {
      f.reset();
    }
    GP.setHTML(document.querySelector('#dqcp-edit tbody'), html`${(p && p.parameters.length ? p.parameters : [{}]).map(editRow)}`);
    // the month form offers the plan's parameters
    GP.setHTML(document.querySelector('#ev-params tbody'), html`${(p ? p.parameters.filter((x) => x.parameter !== 'purchased_electricity' && x.parameter !== 'purchased_heat') : []).concat([{}]).map(paramRow)}`);
  }

  async function filePlan(f) {
    const parameters = [...document.querySelectorAll('#dqcp-edit tbody tr')].map((tr) => Object.fromEntries(FIELDS.map((n) => [n, tr.querySelector(`[name=${n}]`).value])));
    const facilities = f.facilities.value.split('\n').map((l) => l.trim()).filter((l) => l).map((l) => {
      const [code, name, location, sources] = l.split(/[;；]/).map((x) => (x || '').trim());
      return { code: code || '', name: name || '', location: location || '', sources: sources || '' };
    });
    const body = {
      enterprise_id: current, guideline: f.guideline.value, boundary: f.boundary.value, facilities, parameters,
      revision_trigger: f.revision_trigger.value, revision_note: f.revision_note.value, valid_from: f.valid_from.value || null,
    };
    const r = await GP.fetch('/api/mrv/dqcp', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (!r.ok) throw await fail(r);
    return r.json();
  }

  async function uploadPlan(form) {
    const fd = new FormData(form);
    fd.append('enterprise_id', current);
    const r = await GP.fetch('/api/mrv/dqcp/upload', { method: 'POST', body: fd });
    if (!r.ok) throw await fail(r);
    return r.json();
  }

  async function loadAll() {
    document.getElementById('dqcp-template').href = '/api/mrv/dqcp/template.xlsx?' + new URLSearchParams({ enterprise_id: current }); await Promise.all([plan(), evidence()]); }

  GP.pages.mrv_enterprise = async () => {
    try {
      opts = await GP.api('/api/mrv/options');
      const pick = document.getElementById('ent-pick');
      GP.setHTML(pick, html`${opts.enterprises.map((e) => html`<option value="${e.id}" translate="no">${e.code} ${e.name}</option>`)}`);
      const wanted = new URLSearchParams(location.search).get('enterprise_id');
      if (wanted && opts.enterprises.some((e) => String(e.id) === wanted)) pick.value = wanted;
      else if (opts.own_enterprise_id) pick.value = String(opts.own_enterprise_id);
      document.getElementById('ent-pick-label').hidden = opts.enterprises.length <= 1;
      current = Number(pick.value);
      const yearInput = document.getElementById('ent-year');
      yearInput.value = new URLSearchParams(location.search).get('year') || String(opts.year);
      const reporter = ['admin', 'park_staff', 'enterprise'].includes(document.body.dataset.role);
      document.getElementById('ev-form-card').hidden = !reporter;
      document.getElementById('dqcp-form-card').hidden = !reporter;
      GP.setHTML(document.getElementById('ev-energy'), html`${opts.carriers.map((c) => html`<label>${GP.zh() ? c.name_zh : c.name_en} (${GP.unit(c.unit)})
        <input type="number" step="any" min="0" data-carrier="${c.code}" name="energy_${c.code}"></label>`)}`);
      if (!opts.enterprises.length) throw new Error(_('No enterprise to show.'));
      pick.onchange = () => { current = Number(pick.value); loadAll().catch((e) => result('ev-result', false, e.message)); };
      yearInput.onchange = () => evidence().catch((e) => result('ev-result', false, e.message));
      document.getElementById('ev-add-param').onclick = () => GP.addHTML(document.querySelector('#ev-params tbody'), paramRow());
      document.getElementById('dqcp-add').onclick = () => GP.addHTML(document.querySelector('#dqcp-edit tbody'), editRow());
      document.getElementById('dqcp-edit').onclick = (ev) => { if (ev.target.dataset.remove !== undefined) ev.target.closest('tr').remove(); };
      document.getElementById('ev-form').onsubmit = async (ev) => {
        ev.preventDefault();
        try {
          const d = await submitMonth(ev.target);
          result('ev-result', true, d.late ? _('{month} submitted (version {v}), after its due date {due}.', { month: monthName(d.month), v: d.version, due: d.due_date })
            : _('{month} submitted (version {v}), on time.', { month: monthName(d.month), v: d.version }));
          ev.target.reset(); document.getElementById('ev-files').value = '';
          await evidence();
        } catch (e) { result('ev-result', false, e.message); }
      };
      document.getElementById('dqcp-form').onsubmit = async (ev) => {
        ev.preventDefault();
        try {
          const d = await filePlan(ev.target);
          result('dqcp-result', true, _('Version {v} of the plan filed.', { v: d.version }));
          await plan();
        } catch (e) { result('dqcp-result', false, e.message); }
      };
      document.getElementById('dqcp-upload-form').onsubmit = async (ev) => {
        ev.preventDefault();
        try {
          const d = await uploadPlan(ev.target);
          result('dqcp-upload-result', true, _('Version {v} of the plan filed.', { v: d.version }));
          ev.target.reset();
          await plan();
        } catch (e) { result('dqcp-upload-result', false, e.message); }
      };
      await loadAll();
    } catch (e) {
      const box = document.getElementById('page-error'); box.hidden = false; box.textContent = e.message;
    }
    document.body.dataset.ready = '1';
  };
})();
