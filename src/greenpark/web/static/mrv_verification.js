/* greenpark verification page (/mrv/verification): the verifications in the caller's reach
   (/api/mrv/verifications) and one verification's steps, by role — officers assign, register bodies,
   notify and decide appeals; verifiers declare, review, visit, raise and settle non-conformities and
   conclude; enterprises answer non-conformities and appeal within the window. */
(function () {
  'use strict';
  const GP = window.GP;
  const _ = GP._;
  const N_ = (s) => s;
  const html = GP.html;
  const STAGE = {
    assigned: N_('verification assigned'), declared: N_('declared'), doc_review: N_('document review'), site_visit: N_('site visit'),
    concluded: N_('concluded'), notified: N_('notified'), appealed: N_('appealed'), closed: N_('closed'), withdrawn: N_('withdrawn'),
  };
  const utc = GP.when; // Beijing time, as the park reads it
  const NCR_STATUS = { open: N_('open, awaiting an answer'), answered: N_('answered'), closed: N_('closed'), estimated: N_('settled by estimate') };
  const RESULT = { conforms: N_('conforms'), nonconform: N_('does not conform'), na: N_('not applicable') };
  const CONCLUSION = { pass: N_('Pass'), fail: N_('Fail') };
  const stage = (s) => _(STAGE[s] || s);
  const role = () => document.body.dataset.role;
  const isStaff = () => ['admin', 'park_staff'].includes(role());
  const isVerifier = () => role() === 'verifier';
  const isEnterprise = () => role() === 'enterprise';
  function showError(msg) {
    const err = document.getElementById('ver-error'); // looked up late: this script loads before the page's markup
    err.hidden = !msg;
    err.textContent = msg || '';
  }

  // a write to the API: JSON (or a FormData), the answer's reason shown on refusal
  async function post(url, body) {
    const opts = { method: 'POST' };
    if (body instanceof FormData) opts.body = body;
    else { opts.body = JSON.stringify(body || {}); opts.headers = { 'Content-Type': 'application/json' }; }
    const r = await GP.fetch(url, opts);
    const data = await r.json().catch(() => ({}));
    if (!r.ok) {
      const d = data.detail;
      const msg = typeof d === 'string' ? d : Array.isArray(d) ? d.map((x) => x.msg).join('; ') : String(r.status);
      showError(msg);
      throw new Error(msg);
    }
    showError('');
    return data;
  }

  const state = { year: null, current: null };

  function row(v) {
    return html`<tr data-id="${v.id}" class="clickable">
      <td><a href="?id=${v.id}" class="ver-open" data-id="${v.id}"><span translate="no">${v.enterprise}</span></a></td>
      <td class="num">${v.year}</td><td><span translate="no">${v.body_name}</span></td>
      <td data-sort="${v.stage}"><span class="status">${stage(v.stage)}</span></td>
      <td class="date">${v.due_date || '–'}</td><td>${v.conclusion ? _(CONCLUSION[v.conclusion]) : '–'}</td>
      <td class="num" data-sort="${v.reported_total_co2_t ?? ''}">${GP.fmt(v.reported_total_co2_t, 0)}</td>
      <td class="num" data-sort="${v.verified_total_co2_t ?? ''}">${GP.fmt(v.verified_total_co2_t, 0)}</td>
      <td class="num">${v.open_ncrs}</td><td class="date">${v.appeal_due_date || '–'}</td></tr>`;
  }

  async function loadList() {
    const table = document.getElementById('ver-table');
    const rows = await GP.api('/api/mrv/verifications');
    const none = _('No verification yet');
    GP.setHTML(table.tBodies[0], rows.length ? rows.map(row) : html`<tr class="empty"><td colspan="10" class="note">${none}</td></tr>`);
    GP.table(table);
    table.querySelectorAll('a.ver-open').forEach((a) => a.addEventListener('click', (e) => { e.preventDefault(); openDetail(Number(a.dataset.id)); }));
  }

  // ---------------------------------------------------------------- one verification

  function checklistTable(items, labels, editable, name) {
    const w = { item: _('Item'), result: _('Result'), note: _('Note') };
    const rows = items.map((x) => {
      const label = _(labels[x.item] || x.item);
      if (!editable) return html`<tr><td>${label}</td><td>${_(RESULT[x.result] || x.result)}</td><td><span translate="no">${x.note}</span></td></tr>`;
      const opts = Object.keys(RESULT).map((k) => html`<option value="${k}" ${x.result === k ? 'selected' : ''}>${_(RESULT[k])}</option>`);
      return html`<tr data-item="${x.item}"><td>${label}</td><td><select name="${name}-result" aria-label="${label}">${opts}</select></td><td><input name="${name}-note" maxlength="4000" value="${x.note || ''}" aria-label="${w.note}"></td></tr>`;
    });
    return html`<table class="data"><thead><tr><th>${w.item}</th><th>${w.result}</th><th>${w.note}</th></tr></thead><tbody>${rows}</tbody></table>`;
  }

  function items(form, name) {
    return [...form.querySelectorAll('tr[data-item]')].map((tr) => ({
      item: tr.dataset.item, result: tr.querySelector(`[name="${name}-result"]`).value, note: tr.querySelector(`[name="${name}-note"]`).value,
    }));
  }

  function ncrBlock(d, n) {
    const w = {
      clause: _('Clause'), due: _('Answer by'), answer: _('Answer'), files: _('Evidence files'), send: _('Send the answer'),
      close: _('Close as remedied'), note: _('Note'), estimate: _('Conservative estimate (t CO₂)'), reasoning: _('Reasoning (conservative principle)'),
      settle: _('Settle by the estimate'), closedNote: _('Closed:'), estimated: _('Estimated:'),
    };
    const working = ['declared', 'doc_review', 'site_visit'].includes(d.stage);
    const files = n.attachments.map((a) => html`<li><a href="${a.url}" download><span translate="no">${a.filename}</span></a> <span class="note" translate="no">${a.sha256.slice(0, 12)}…</span></li>`);
    let acts = html``;
    if (working && (isEnterprise() || isStaff()) && ['open', 'answered'].includes(n.status)) {
      acts = html`<form class="ncr-answer inline-form" data-ncr="${n.id}"><label>${w.answer} <textarea name="response" required maxlength="20000" rows="2"></textarea></label>
        <label>${w.files} <input type="file" name="files" multiple accept=".pdf,.jpg,.jpeg,.png,.xlsx,.docx,.csv"></label><button>${w.send}</button></form>`;
    }
    if (working && isVerifier() && ['open', 'answered'].includes(n.status)) {
      const closeForm = n.status === 'answered' ? html`<form class="ncr-close inline-form" data-ncr="${n.id}"><label>${w.note} <input name="note" required maxlength="20000"></label><button>${w.close}</button></form>` : '';
      acts = html`${closeForm}<form class="ncr-estimate inline-form" data-ncr="${n.id}"><label>${w.estimate} <input name="estimate_co2_t" type="number" min="0" step="any" required></label>
        <label>${w.reasoning} <input name="reasoning" required maxlength="20000"></label><button>${w.settle}</button></form>`;
    }
    const closed = n.status === 'closed' ? html`<p>${w.closedNote} <span translate="no">${n.close_note}</span></p>` : '';
    const est = n.status === 'estimated' ? html`<p>${w.estimated} ${GP.fmt(n.estimate_co2_t, 0)} ${_('t CO₂')} — <span translate="no">${n.estimate_reasoning}</span></p>` : '';
    const answer = n.response ? html`<p>${w.answer}: <span translate="no">${n.response}</span></p>` : '';
    return html`<li class="ncr" data-ncr="${n.id}"><b>#${n.number}</b> <span class="status">${_(NCR_STATUS[n.status])}</span>
      ${n.clause ? html`<span class="note">${w.clause} <span translate="no">${n.clause}</span></span>` : ''} <span translate="no">${n.description}</span>
      ${n.due_date ? html`<span class="note">${w.due} ${n.due_date}</span>` : ''}${answer}${files.length ? html`<ul>${files}</ul>` : ''}${closed}${est}${acts}</li>`;
  }

  function detailHTML(d) {
    const w = {
      title: _('Verification of {enterprise} {year}', { enterprise: d.enterprise, year: d.year }),
      body: _('Verification body'), stage: _('Stage'), due: _('Due'), initial: _('Initial report'), final: _('Final report'), latest: _('Latest report'),
      version: _('version'), decl: _('Conflict-of-interest declaration'), declText: _('Declaration'),
      declareOk: _('Declare: no conflict'), declareConflict: _('Declare a conflict (withdraw)'),
      review: _('Document review'), saveReview: _('Save the document review'), visit: _('Site visit'), date: _('Date'), team: _('Team'),
      record: _('Record'), saveVisit: _('Save the site visit'), ncrs: _('Non-conformities'), none: _('None'),
      newNcr: _('Open a non-conformity'), clause: _('Clause'), desc: _('Description'), dueBy: _('Answer by'),
      concl: _('Conclusion'), verified: _('Verified total (t CO₂)'), reported: _('Initially reported total (t CO₂)'),
      diffs: _('Differences and their reasons'), item: _('Item'), rep: _('Reported (t CO₂)'), ver: _('Verified (t CO₂)'), reason: _('Reason'),
      addDiff: _('Add a difference'), lang: _('Statement language'), conclude: _('Conclude and sign the statement'),
      statement: _('Statement'), docx: _('Statement (Word)'), sig: _('Signature (.sig)'), key: _('Body public key (PEM)'),
      check: _('Check: openssl pkeyutl -verify -pubin -inkey body.pem -rawin -in statement.docx -sigfile statement.sig'),
      notify: _('Notify the enterprise of the result'), appeal: _('Appeal'), appealUntil: _('You may appeal until {date}.', { date: d.appeal_due_date }),
      grounds: _('Grounds'), fileAppeal: _('File the appeal'), decision: _('Decision'), upheld: _('upheld'), revised: _('revised'),
      revisedTotal: _('Revised total (t CO₂)'), decide: _('Decide'), decideBy: _('Decide by {date}', { date: d.appeal ? d.appeal.decision_due_date : '' }),
      close: _('Close the verification'), log: _('Log'), who: _('Who'), action: _('Action'), time: _('Time'), sha: _('SHA-256'),
    };
    const rep = (r) => (r ? html`${w.version} ${r.version} · ${GP.fmt(r.total_co2_t, 0)} ${_('t CO₂')} · ${GP.whenDay(r.submitted_utc)}` : '–');
    const working = ['declared', 'doc_review', 'site_visit'].includes(d.stage);
    const v = isVerifier();
    const labels = d.item_labels;
    const parts = [html`<h2>${w.title}</h2>
      <p>${w.body}: <span translate="no">${d.body_name}</span> · ${w.stage}: <span class="status">${stage(d.stage)}</span> · ${w.due}: ${d.due_date || '–'}</p>
      <p class="note">${w.initial}: ${rep(d.initial_report)} · ${w.final}: ${rep(d.final_report)} · ${w.latest}: ${rep(d.latest_report)}</p>`];
    // the declaration
    if (d.stage === 'assigned' && v) {
      parts.push(html`<h3>${w.decl}</h3><form id="ver-declare" class="inline-form"><label>${w.declText} <textarea name="statement" required maxlength="20000" rows="3"></textarea></label>
        <button name="ok" value="1">${w.declareOk}</button> <button name="conflict" value="1" class="secondary">${w.declareConflict}</button></form>`);
    } else if (d.coi_declared_by) {
      parts.push(html`<h3>${w.decl}</h3><p><span translate="no">${d.coi_statement}</span> <span class="note"><span translate="no">${d.coi_declared_by}</span> ${utc(d.coi_declared_utc)}</span></p>`);
    }
    // document review
    if (working && v) {
      const current = d.doc_review.length ? d.doc_review : d.checklists.doc_review.map((c) => ({ item: c, result: 'conforms', note: '' }));
      parts.push(html`<h3>${w.review}</h3><form id="ver-review">${checklistTable(current, labels, true, 'dr')}<button>${w.saveReview}</button></form>`);
    } else if (d.doc_review.length) {
      parts.push(html`<h3>${w.review}</h3>${checklistTable(d.doc_review, labels, false)}`);
    }
    // site visit
    if (v && ['doc_review', 'site_visit'].includes(d.stage)) {
      const current = d.site_visit.length ? d.site_visit : d.checklists.site_visit.map((c) => ({ item: c, result: 'conforms', note: '' }));
      parts.push(html`<h3>${w.visit}</h3><form id="ver-visit"><p class="inline-form"><label>${w.date} <input type="date" name="date" required value="${d.site_visit_date || ''}"></label>
        <label>${w.team} <input name="team" required maxlength="400" value="${d.site_visit_team}"></label></p>
        <label>${w.record} <textarea name="record" required maxlength="20000" rows="3">${d.site_visit_record}</textarea></label>
        ${checklistTable(current, labels, true, 'sv')}<button>${w.saveVisit}</button></form>`);
    } else if (d.site_visit_date) {
      parts.push(html`<h3>${w.visit}</h3><p>${d.site_visit_date} · <span translate="no">${d.site_visit_team}</span></p><p><span translate="no">${d.site_visit_record}</span></p>${checklistTable(d.site_visit, labels, false)}`);
    }
    // non-conformities
    parts.push(html`<h3>${w.ncrs}</h3>${d.ncrs.length ? html`<ul class="ncrs">${d.ncrs.map((n) => ncrBlock(d, n))}</ul>` : html`<p class="note">${w.none}</p>`}`);
    if (working && v) {
      parts.push(html`<form id="ver-ncr" class="inline-form"><label>${w.clause} <input name="clause" maxlength="200"></label>
        <label>${w.desc} <input name="description" required maxlength="20000"></label><label>${w.dueBy} <input type="date" name="due_date"></label><button>${w.newNcr}</button></form>`);
    }
    // conclusion
    if (d.stage === 'site_visit' && v) {
      const reported = d.initial_report ? d.initial_report.total_co2_t : 0;
      parts.push(html`<h3>${w.concl}</h3><form id="ver-conclude"><p class="inline-form">
        <label>${w.concl} <select name="conclusion"><option value="pass">${_(CONCLUSION.pass)}</option><option value="fail">${_(CONCLUSION.fail)}</option></select></label>
        <span>${w.reported}: ${GP.fmt(reported, 0)}</span>
        <label>${w.verified} <input name="verified_total_co2_t" type="number" min="0" step="any" required value="${reported}"></label>
        <label>${w.lang} <select name="lang"><option value="zh">中文</option><option value="en">English</option></select></label></p>
        <h4>${w.diffs}</h4><table class="data" id="ver-diffs"><thead><tr><th>${w.item}</th><th>${w.rep}</th><th>${w.ver}</th><th>${w.reason}</th></tr></thead><tbody></tbody></table>
        <button type="button" class="secondary" id="ver-add-diff">${w.addDiff}</button> <button>${w.conclude}</button></form>`);
    } else if (d.conclusion) {
      const diffs = d.differences.map((x) => html`<tr><td><span translate="no">${x.item}</span></td><td class="num">${GP.fmt(x.reported_t, 0)}</td><td class="num">${GP.fmt(x.verified_t, 0)}</td><td><span translate="no">${x.reason}</span></td></tr>`);
      parts.push(html`<h3>${w.concl}: ${_(CONCLUSION[d.conclusion])}</h3><p>${w.reported}: ${GP.fmt(d.reported_total_co2_t, 0)} · ${w.verified}: <b>${GP.fmt(d.verified_total_co2_t, 0)}</b></p>
        ${diffs.length ? html`<table class="data"><thead><tr><th>${w.item}</th><th>${w.rep}</th><th>${w.ver}</th><th>${w.reason}</th></tr></thead><tbody>${diffs}</tbody></table>` : ''}`);
    }
    if (d.has_statement) {
      parts.push(html`<h3>${w.statement}</h3><p><a class="button secondary" id="ver-docx" href="/api/mrv/verifications/${d.id}/statement.docx" download>${w.docx}</a>
        <a class="button secondary" href="/api/mrv/verifications/${d.id}/statement.sig" download>${w.sig}</a>
        <a class="button secondary" href="/api/mrv/bodies/${encodeURIComponent(d.body)}/public-key.pem" download>${w.key}</a></p>
        <p class="note">SHA-256 <span translate="no">${d.statement_sha256}</span><br>${w.check}</p>`);
    }
    // notification, appeal, decision, closing
    if (d.stage === 'concluded' && isStaff()) parts.push(html`<p><button id="ver-notify">${w.notify}</button></p>`);
    if (d.stage === 'notified' && d.appeal_due_date) {
      parts.push(html`<h3>${w.appeal}</h3><p class="${d.appeal_open ? '' : 'note'}">${w.appealUntil}</p>`);
      if (d.appeal_open && (isEnterprise() || isStaff())) {
        parts.push(html`<form id="ver-appeal" class="inline-form"><label>${w.grounds} <textarea name="grounds" required maxlength="20000" rows="2"></textarea></label><button>${w.fileAppeal}</button></form>`);
      }
    }
    if (d.appeal) {
      const a = d.appeal;
      parts.push(html`<h3>${w.appeal}</h3><p><span translate="no">${a.grounds}</span> <span class="note"><span translate="no">${a.filed_by}</span> ${utc(a.filed_utc)} · ${w.decideBy}</span></p>
        ${a.decision ? html`<p>${w.decision}: <b>${_(a.decision)}</b> ${a.revised_total_co2_t !== null ? GP.fmt(a.revised_total_co2_t, 0) + ' ' + _('t CO₂') : ''} — <span translate="no">${a.decision_note}</span></p>` : ''}`);
      if (!a.decision && isStaff()) {
        parts.push(html`<form id="ver-decide" class="inline-form"><label>${w.decision} <select name="decision"><option value="upheld">${w.upheld}</option><option value="revised">${w.revised}</option></select></label>
          <label>${w.revisedTotal} <input name="revised_total_co2_t" type="number" min="0" step="any"></label><label>${w.reason} <input name="note" required maxlength="20000"></label><button>${w.decide}</button></form>`);
      }
    }
    if (isStaff() && (d.stage === 'notified' && !d.appeal_open || (d.stage === 'appealed' && d.appeal && d.appeal.decision))) {
      parts.push(html`<p><button id="ver-close" class="secondary">${w.close}</button></p>`);
    }
    const log = d.log.map((e) => html`<tr><td>${utc(e.at_utc)}</td><td><span translate="no">${e.actor}</span></td><td>${e.action_label}</td><td><code translate="no">${e.sha256.slice(0, 16)}</code></td></tr>`);
    parts.push(html`<details><summary>${w.log} (${d.log.length})</summary><table class="data"><thead><tr><th>${w.time}</th><th>${w.who}</th><th>${w.action}</th><th>${w.sha}</th></tr></thead><tbody>${log}</tbody></table></details>`);
    return parts;
  }

  function diffRow() {
    const w = { item: _('Item'), rep: _('Reported (t CO₂)'), ver: _('Verified (t CO₂)'), reason: _('Reason') };
    return html`<tr class="diff"><td><input name="item" required maxlength="200" aria-label="${w.item}"></td><td><input name="reported_t" type="number" min="0" step="any" required aria-label="${w.rep}"></td>
      <td><input name="verified_t" type="number" min="0" step="any" required aria-label="${w.ver}"></td><td><input name="reason" required maxlength="4000" aria-label="${w.reason}"></td></tr>`;
  }

  function bind(box, d) {
    const base = `/api/mrv/verifications/${d.id}`;
    const on = (sel, fn) => { const f = box.querySelector(sel); if (f) f.addEventListener('submit', async (e) => { e.preventDefault(); try { await fn(f, e); await openDetail(d.id); await loadList(); } catch (x) { showError(x.message); } }); };
    on('#ver-declare', (f, e) => post(base + '/declare', { statement: f.statement.value, no_conflict: !(e.submitter && e.submitter.name === 'conflict') }));
    on('#ver-review', (f) => post(base + '/doc-review', { items: items(f, 'dr') }));
    on('#ver-visit', (f) => post(base + '/site-visit', { date: f.date.value, team: f.team.value, record: f.record.value, items: items(f, 'sv') }));
    on('#ver-ncr', (f) => post(base + '/ncrs', { clause: f.clause.value, description: f.description.value, due_date: f.due_date.value || null }));
    box.querySelectorAll('form.ncr-answer').forEach((f) => f.addEventListener('submit', async (e) => {
      e.preventDefault();
      try { await post(`/api/mrv/ncrs/${f.dataset.ncr}/answer`, new FormData(f)); await openDetail(d.id); await loadList(); } catch (x) { showError(x.message); }
    }));
    box.querySelectorAll('form.ncr-close').forEach((f) => f.addEventListener('submit', async (e) => {
      e.preventDefault();
      try { await post(`/api/mrv/ncrs/${f.dataset.ncr}/close`, { note: f.note.value }); await openDetail(d.id); await loadList(); } catch (x) { showError(x.message); }
    }));
    box.querySelectorAll('form.ncr-estimate').forEach((f) => f.addEventListener('submit', async (e) => {
      e.preventDefault();
      try { await post(`/api/mrv/ncrs/${f.dataset.ncr}/estimate`, { estimate_co2_t: Number(f.estimate_co2_t.value), reasoning: f.reasoning.value }); await openDetail(d.id); await loadList(); } catch (x) { showError(x.message); }
    }));
    const add = box.querySelector('#ver-add-diff');
    if (add) add.addEventListener('click', () => GP.addHTML(box.querySelector('#ver-diffs tbody'), diffRow()));
    on('#ver-conclude', (f) => post(base + '/conclude', {
      conclusion: f.conclusion.value, verified_total_co2_t: Number(f.verified_total_co2_t.value), lang: f.lang.value,
      differences: [...f.querySelectorAll('tr.diff')].map((tr) => ({ item: tr.querySelector('[name=item]').value, reported_t: Number(tr.querySelector('[name=reported_t]').value),
        verified_t: Number(tr.querySelector('[name=verified_t]').value), reason: tr.querySelector('[name=reason]').value })),
    }));
    on('#ver-appeal', (f) => post(base + '/appeal', { grounds: f.grounds.value }));
    on('#ver-decide', (f) => post(base + '/appeal/decision', { decision: f.decision.value, note: f.note.value,
      revised_total_co2_t: f.revised_total_co2_t.value === '' ? null : Number(f.revised_total_co2_t.value) }));
    const click = (sel, url) => { const b = box.querySelector(sel); if (b) b.addEventListener('click', async () => { try { await post(url, {}); await openDetail(d.id); await loadList(); } catch (x) { showError(x.message); } }); };
    click('#ver-notify', base + '/notify');
    click('#ver-close', base + '/close');
  }

  async function openDetail(id) {
    const box = document.getElementById('ver-detail');
    const d = await GP.api('/api/mrv/verifications/' + id);
    state.current = id;
    GP.setHTML(box, detailHTML(d));
    box.hidden = false;
    bind(box, d);
    history.replaceState(null, '', '?id=' + id);
  }

  // ---------------------------------------------------------------- the officer's cards

  async function loadOfficer() {
    if (!document.getElementById('ver-assign-card')) return;
    const bodies = await GP.api('/api/mrv/bodies');
    const w = { key: _('Download') };
    GP.setHTML(document.querySelector('#ver-bodies tbody'), bodies.map((b) => html`<tr><td translate="no">${b.code}</td><td translate="no">${b.name}</td><td translate="no">${b.uscc}</td><td translate="no">${b.accreditation}</td>
      <td translate="no">${b.members.map((x) => x.username).join(', ')}</td><td><a href="/api/mrv/bodies/${encodeURIComponent(b.code)}/public-key.pem" download>${w.key}</a></td></tr>`));
    const opts = bodies.map((b) => html`<option value="${b.code}" translate="no">${b.name}</option>`);
    GP.setHTML(document.getElementById('ver-assign-body'), opts);
    GP.setHTML(document.getElementById('ver-member-body'), opts);
    const ents = await GP.api('/api/mrv/verifications/assignable?year=' + state.year);
    GP.setHTML(document.getElementById('ver-assign-ent'), ents.map((e) => html`<option value="${e.enterprise_id}" translate="no">${e.name} (${GP.fmt(e.total_co2_t, 0)} ${_('t CO₂')})</option>`));
  }

  function bindOfficer() {
    // each form says what it did next to its button (the list below changes too, but out of sight)
    const done = (f, text) => {
      let n = f.querySelector('.done');
      if (!n) { n = document.createElement('span'); n.className = 'note ok done'; f.appendChild(n); }
      n.textContent = text;
    };
    const form = (id, fn, said) => { const f = document.getElementById(id); if (f) f.addEventListener('submit', async (e) => { e.preventDefault(); try { await fn(f); f.reset(); done(f, said); await loadOfficer(); await loadList(); } catch (x) { showError(x.message); } }); };
    form('ver-assign-form', (f) => post('/api/mrv/verifications', { enterprise_id: Number(f.enterprise_id.value), year: Number(state.year), body: f.body.value }),
      _('Assigned: the body\'s verifiers are told in their inbox.'));
    form('ver-body-form', (f) => post('/api/mrv/bodies', { code: f.elements.code.value, name: f.elements.name.value, uscc: f.elements.uscc.value, accreditation: f.accreditation.value, contact: f.contact.value }),
      _('The body is added.'));
    form('ver-member-form', (f) => post(`/api/mrv/bodies/${encodeURIComponent(f.body.value)}/members`, { username: f.username.value }),
      _('The verifier is added to the body.'));
  }

  GP.pages.mrv_verification = async function () {
    // the year of the reports to assign (last year by default)
    const sel = document.getElementById('ver-year');
    const now = new Date().getFullYear();
    const years = [now, now - 1, now - 2, now - 3];
    // the inbox's "assign a body" task links here with its report's year
    const asked = Number(new URLSearchParams(location.search).get('year'));
    if (Number.isInteger(asked) && asked >= 1900 && asked <= 2200 && !years.includes(asked)) years.push(asked);
    state.year = years.includes(asked) ? asked : now - 1;
    if (sel) {
      GP.setHTML(sel, years.map((y) => html`<option value="${y}">${y}</option>`));
      sel.value = String(state.year);
      sel.addEventListener('change', async () => { state.year = Number(sel.value); await loadOfficer(); });
    }
    bindOfficer();
    try {
      await loadList();
      await loadOfficer();
      const id = new URLSearchParams(location.search).get('id');
      if (id) await openDetail(Number(id));
    } catch (e) {
      showError(e.message);
    }
    document.body.dataset.ready = '1';
  };
})();
