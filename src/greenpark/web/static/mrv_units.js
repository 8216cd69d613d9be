/* greenpark key-unit register (/mrv/units): each enterprise's energy and CO₂ with where they come
   from, its reasons, kinds and obligations (/api/mrv/units); park staff designate or exempt with a
   reason (/api/mrv/units/decisions) and set the park's deadlines (/api/mrv/settings/deadlines). */
(function () {
  'use strict';
  const GP = window.GP;
  const _ = GP._;
  const N_ = (s) => s;
  const html = GP.html;
  const REASON = {
    energy_over_threshold: N_('energy over the threshold'), energy_designable: N_('energy in the designable range'),
    co2_over_threshold: N_('CO₂ over the threshold'), co2_designable: N_('CO₂ in the designable range'),
    tagged_in_enterprise_file: N_('tagged in the enterprise file'), designated: N_('designated by the park'),
    exempted: N_('exempted by the park'),
  };
  const SOURCE = { verified_report: N_('verified report'), report: N_('report (not yet verified)'), records: N_('activity records'), none: N_('no data') };
  const KIND = { key_energy_user: N_('Key energy user'), key_carbon_emitter: N_('Key carbon emitter') };
  const OBLIGATION = {
    energy_report: N_('energy report'), monthly_evidence: N_('monthly evidence'), dqcp: N_('data quality control plan'),
    annual_report: N_('annual GHG report'), verification: N_('third-party verification'),
  };
  const DECISION = { designate: N_('Designate'), exempt: N_('Exempt') };
  const label = (words, code) => _(words[code] || code);
  const staff = () => document.body.dataset.staff === '1';

  async function send(url, method, body) {
    const r = await GP.fetch(url, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const d = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(typeof d.detail === 'string' ? d.detail : Array.isArray(d.detail) ? d.detail.map((e) => e.msg).join('; ') : String(r.status));
    return d;
  }
  function result(id, ok, text) {
    GP.setHTML(document.getElementById(id), html`<p class="${ok ? 'good' : 'bad'}">${text}</p>`);
  }

  function unitRow(u) {
    const reasons = u.reasons.map((c) => {
      const d = (c === 'designated' || c === 'exempted') ? Object.values(u.decisions).find((x) => (c === 'designated') === x.included) : null;
      return html`<li>${label(REASON, c)}${d ? html`: <span class="note" translate="no">${d.reason}</span>` : ''}</li>`;
    });
    return html`<tr data-enterprise="${u.enterprise}">
      <td data-export="${u.name} (${u.enterprise})"><span translate="no">${u.name}</span><br><span class="note" translate="no">${u.enterprise}</span></td>
      <td class="num" data-sort="${u.energy_tce ?? ''}" data-export="${u.energy_tce ?? ''}">${GP.fmt(u.energy_tce, 0)}</td>
      <td class="num" data-sort="${u.co2_t ?? ''}" data-export="${u.co2_t ?? ''}">${GP.fmt(u.co2_t, 0)}</td>
      <td data-export="${label(SOURCE, u.source)}">${label(SOURCE, u.source)}</td>
      <td data-export="${u.reasons.map((c) => label(REASON, c)).join(GP.zh() ? '；' : '; ')}"><ul class="checks">${reasons}</ul></td>
      <td data-export="${u.kinds.map((k) => label(KIND, k)).join(GP.zh() ? '；' : '; ')}">${u.kinds.length ? GP.join(u.kinds.map((k) => html`<span class="status">${label(KIND, k)}</span>`), ' ') : '–'}</td>
      <td data-export="${u.obligations.map((o) => label(OBLIGATION, o)).join(GP.zh() ? '；' : '; ')}">${GP.list(u.obligations.map((o) => label(OBLIGATION, o))) || '–'}</td>
    </tr>`;
  }

  function decisionRow(d) {
    return html`<tr><td>${GP.when(d.decided_utc)}</td><td translate="no">${d.enterprise}</td><td>${label(KIND, d.kind)}</td>
      <td>${label(DECISION, d.decision)}</td><td translate="no">${d.reason}</td><td translate="no">${d.decided_by}</td></tr>`;
  }

  async function load() {
    const year = document.getElementById('units-year').value;
    const every = document.getElementById('units-every').checked;
    const d = await GP.api('/api/mrv/units?' + new URLSearchParams({ year, every: every ? 'true' : 'false' }));
    const table = document.getElementById('units-table');
    GP.setHTML(table.tBodies[0], d.units.length ? html`${d.units.map(unitRow)}`
      : html`<tr class="empty"><td colspan="7" class="note">${_('No key unit or candidate this year.')}</td></tr>`);
    GP.table(table);
    document.getElementById('units-counts').textContent = _('{energy} key energy users, {carbon} key carbon emitters in {year}.',
      { energy: d.counts.key_energy_user, carbon: d.counts.key_carbon_emitter, year: d.year });
    const dec = document.getElementById('decisions-table');
    GP.setHTML(dec.tBodies[0], html`${d.decisions.map(decisionRow)}`);
    GP.table(dec);
  }

  async function enterprises() {
    const o = await GP.api('/api/mrv/options');
    GP.setHTML(document.getElementById('decide-enterprise'),
      html`${o.enterprises.map((e) => html`<option value="${e.id}" translate="no">${e.code} ${e.name}</option>`)}`);
    return o;
  }

  async function deadlines() {
    const d = await GP.api('/api/mrv/settings/deadlines');
    const f = document.getElementById('deadlines-form');
    f.evidence_days_after_month_end.value = d.evidence_days_after_month_end;
    f.report_due_month_day.value = d.report_due_month_day;
    f.verification_due_month_day.value = d.verification_due_month_day;
    f.reminder_days_before.value = (d.reminder_days_before || []).join(', ');
    f.querySelectorAll('input').forEach((i) => { i.readOnly = !staff(); });
    document.getElementById('deadlines-save').hidden = !staff();
  }

  GP.pages.mrv_units = async () => {
    try {
      const yearInput = document.getElementById('units-year');
      const o = await enterprises();
      yearInput.value = new URLSearchParams(location.search).get('year') || String(o.year - 1);
      yearInput.onchange = () => load().catch((e) => result('decide-result', false, e.message));
      document.getElementById('units-every').onchange = yearInput.onchange;
      document.getElementById('decide-card').hidden = !staff();
      document.getElementById('decide-form').onsubmit = async (ev) => {
        ev.preventDefault();
        const f = ev.target;
        try {
          const d = await send('/api/mrv/units/decisions', 'POST', {
            enterprise_id: Number(f.enterprise_id.value), year: Number(yearInput.value), kind: f.kind.value,
            decision: f.decision.value, reason: f.reason.value,
          });
          result('decide-result', true, _('Recorded: {enterprise}, {decision}.', { enterprise: d.enterprise, decision: label(DECISION, d.decision) }));
          f.reason.value = '';
          await load();
        } catch (e) { result('decide-result', false, e.message); }
      };
      document.getElementById('deadlines-form').onsubmit = async (ev) => {
        ev.preventDefault();
        const f = ev.target;
        try {
          await send('/api/mrv/settings/deadlines', 'PUT', {
            evidence_days_after_month_end: Number(f.evidence_days_after_month_end.value),
            report_due_month_day: f.report_due_month_day.value, verification_due_month_day: f.verification_due_month_day.value,
            reminder_days_before: f.reminder_days_before.value.split(',').map((x) => x.trim()).filter((x) => x).map(Number),
          });
          result('deadlines-result', true, _('The deadlines are saved.'));
          await deadlines();
        } catch (e) { result('deadlines-result', false, e.message); }
      };
      await Promise.all([load(), deadlines()]);
    } catch (e) {
      const box = document.getElementById('page-error'); box.hidden = false; box.textContent = e.message;
    }
    document.body.dataset.ready = '1';
  };
})();
