/* greenpark status board: key units × months of evidence and × report stages (/api/mrv/status),
   overdue in red, a filter, and the export as a workbook or CSV. */
(function () {
  'use strict';
  const GP = window.GP;
  const _ = GP._;
  const N_ = (s) => s;
  const html = GP.html;
  const T = {
    t0: N_('No data'),
    t1: N_('{n} enterprises with monthly evidence, {r} with reports; {o} overdue items.'),
  };
  const MARK = { on_time: '✓', late: 'L', missing: '✗', not_due: '–' };
  const COLOUR = { on_time: '#d9f2e3', late: '#fde8cf', missing: '#f8d7d3', not_due: '' };
  const STATE = { on_time: N_('on time'), late: N_('late'), missing: N_('missing'), not_due: N_('not due') };
  const WHY = { report_overdue: N_('report overdue'), verification_overdue: N_('verification overdue'), ncr_overdue: N_('non-conformity overdue'), appeal_decision_overdue: N_('appeal decision overdue') };
  let board = null;

  function draw() {
    const q = document.getElementById('st-filter').value.trim().toLowerCase();
    const onlyLate = document.getElementById('st-overdue').checked;
    const zoneName = (r) => (r.zone_name && (GP.zh() ? r.zone_name.zh : r.zone_name.en)) || r.zone;
    const hit = (r) => !q || `${r.code} ${r.name} ${r.zone} ${zoneName(r)}`.toLowerCase().includes(q);
    const months = board.months.filter((r) => hit(r) && (!onlyLate || r.missing));
    const reports = board.reports.filter((r) => hit(r) && (!onlyLate || r.overdue));
    const mb = document.getElementById('st-months').tBodies[0];
    GP.setHTML(mb, months.length
      ? months.map((r) => html`<tr><td><span translate="no">${r.name}</span><br><span class="note" translate="no">${r.code}</span></td><td translate="no">${zoneName(r)}</td>${r.cells.map((c) => html`<td class="num${c.state === 'missing' ? ' bad' : ''}" style="background:${COLOUR[c.state]}" title="${_(STATE[c.state])} · ${c.due}" data-state="${c.state}">${MARK[c.state]}</td>`)}<td class="num">${r.late}</td><td class="num${r.missing ? ' bad' : ''}">${r.missing}</td></tr>`)
      : html`<tr class="empty"><td colspan="16" class="note">${_(T.t0)}</td></tr>`);
    const rb = document.getElementById('st-reports').tBodies[0];
    GP.setHTML(rb, reports.length
      ? reports.map((r) => html`<tr class="${r.overdue ? 'overdue' : ''}" data-stage="${r.stage}"><td><span translate="no">${r.name}</span><br><span class="note" translate="no">${r.code}</span></td><td translate="no">${zoneName(r)}</td><td>${r.stage_label}</td><td class="num">${r.version ?? '–'}</td><td class="${r.overdue ? 'bad' : ''}">${r.due}</td><td class="${r.overdue ? 'bad' : ''}">${r.overdue ? _(WHY[r.why] || 'overdue') : r.submitted_late ? _('submitted late') : ''}</td></tr>`)
      : html`<tr class="empty"><td colspan="6" class="note">${_(T.t0)}</td></tr>`);
    const c = board.counts;
    document.getElementById('st-summary').textContent = _(T.t1, { n: board.months.length, r: board.reports.length, o: c.overdue });
  }

  async function load(year) {
    document.getElementById('st-xlsx').href = `/api/mrv/status.xlsx?year=${encodeURIComponent(year)}`;
    document.getElementById('st-csv').href = `/api/mrv/status.csv?year=${encodeURIComponent(year)}`;
    try {
      board = await GP.api(`/api/mrv/status?year=${encodeURIComponent(year)}`);
    } catch (e) {
      document.getElementById('st-summary').textContent = e.message;
      return;
    }
    draw();
  }

  GP.pages.mrv_status = async (arg) => {
    const yearInput = document.getElementById('st-year');
    const params = new URLSearchParams(window.location.search);
    if (params.get('year')) yearInput.value = params.get('year');
    yearInput.addEventListener('change', () => load(yearInput.value));
    document.getElementById('st-filter').addEventListener('input', () => board && draw());
    document.getElementById('st-overdue').addEventListener('change', () => board && draw());
    await load(yearInput.value || arg);
    document.body.dataset.ready = '1';
  };
})();
