/* greenpark administration: parks (onboarding workbooks), users and roles, API tokens, sessions,
   logins and the audit trail. */
(function () {
  'use strict';
  const GP = window.GP;
  // Words come from the catalogue: _ translates an English message id, N_ only marks one (translated
  // where it is shown). Ids are written outside template literals: the extractor skips backticks.
  const _ = GP._;
  const N_ = (s) => s;
  const h = GP.html;
  const ROLES = { admin: N_('Administrator'), park_staff: N_('Park staff'), zone_staff: N_('Zone staff'), verifier: N_('Verifier'),
    bureau: N_('Bureau'), enterprise: N_('Enterprise user'), public: N_('Public') };
  //: the roles an account of every park may have (given by an admin of the whole house)
  const HOUSE_WIDE = ['admin', 'bureau'];
  const STATES = { active: N_('valid'), revoked: N_('revoked'), expired: N_('expired') };
  // the fields of the account events (the records' fields come labelled from the API)
  const FIELDS = { password: N_('password'), pw: N_('device access password'), role: N_('role'), active: N_('active') };
  // the events about accounts (their values are roles, parks, zones, enterprises: named below)
  const ACCOUNTS = new Set(['app_user', 'api_token', 'user_session']);
  const word = (table, k) => (table[k] ? _(table[k]) : k);
  const role = (r) => word(ROLES, r);
  const local = (iso) => (iso ? new Date(iso).toLocaleString(GP.zh() ? 'zh-CN' : 'en-GB', { timeZone: 'Asia/Shanghai', hour12: false }) : '–');
  const named = (o) => (GP.zh() ? o.name_zh : o.name_en);
  // a message that names someone or something: the words translated, the name shown as data
  const naming = (text, name) => { const [a, b] = text.split('\u0000'); return h`${a}${GP.name(name)}${b ?? ''}`; };
  const NAME = { name: '\u0000' };

  // what the page knows: the parks the admin manages (with their zones), enterprises by id
  let parkList = [];
  const parksById = {}, zonesById = {}, enterprises = {};
  const houseWide = () => document.getElementById('adm-park') !== null;
  const working = () => document.body.dataset.park;
  const parkOf = (code) => parkList.find((p) => p.code === code);
  const entCache = {};
  // the enterprises of a park (the working park's, or another's for an admin of the whole house)
  const enterprisesOf = (code) => {
    if (!entCache[code]) entCache[code] = GP.api('/api/enterprises' + (code && code !== working() ? '?park=' + encodeURIComponent(code) : ''));
    return entCache[code];
  };

  const isTime = (x) => typeof x === 'string' && /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d/.test(x);
  const value = (k, x) => {
    if (k === 'role') return role(x);
    if (k === 'enterprise_id') return enterprises[x] || x;
    if (k === 'park_id') return parksById[x] ? named(parksById[x]) : x;
    if (k === 'zone_id') return zonesById[x] ? named(zonesById[x]) : x;
    if (typeof x === 'boolean') return x ? _('yes') : _('no');
    if (x === '(hidden)') return _('(not shown)');
    if (isTime(x)) return local(x.replace(' ', 'T') + (x.endsWith('Z') ? '' : 'Z'));
    return String(x);
  };
  const show = (v) => {
    if (v === null || v === undefined) return '';
    if (typeof v !== 'object') return value('', v);
    return Object.entries(v).filter(([, x]) => x !== null && x !== '').map(([k, x]) => value(k, x)).join(' · ');
  };

  async function send(url, method, body) {
    const r = await GP.fetch(url, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const d = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(typeof d.detail === 'string' ? d.detail : Array.isArray(d.detail) ? d.detail.map((e) => e.msg).join('; ') : String(r.status));
    return d;
  }
  // what cannot be undone asks once more on the button itself
  function confirming(button, question, action) {
    button.onclick = async () => {
      if (button.dataset.armed !== '1') {
        button.dataset.armed = '1'; button.dataset.label = button.textContent; button.textContent = question; button.classList.add('danger');
        setTimeout(() => { if (button.isConnected && button.dataset.armed === '1') { button.dataset.armed = ''; button.textContent = button.dataset.label; button.classList.remove('danger'); } }, 5000);
        return;
      }
      button.disabled = true;
      try { await action(); } catch (e) { button.textContent = e.message; }
    };
  }
  function result(id, ok, content) {
    GP.setHTML(document.getElementById(id), ok ? h`<p class="good">${content}</p>` : h`<p class="bad">${content}</p>`);
  }
  // <option>s of a park's zones / enterprises (data: shown as it is)
  const zoneOptions = (code, selected) => (parkOf(code)?.zone_list || []).map((z) => h`<option value="${z.code}" translate="no" ${z.code === selected ? h`selected` : ''}>${named(z)}</option>`);
  const entOptions = (ents, selected) => ents.map((e) => h`<option value="${e.code}" translate="no" ${e.code === selected ? h`selected` : ''}>${e.code} ${e.name}</option>`);

  // ------------------------------------------------------------------ parks and their workbooks
  async function parks() {
    parkList = await GP.api('/api/parks');
    parkList.forEach((p) => { parksById[p.id] = p; p.zone_list.forEach((z) => { zonesById[z.id] = z; }); });
    const lang = document.body.dataset.lang;
    const w = { download: _('Download its workbook') };
    GP.setHTML(document.querySelector('#adm-parks tbody'), parkList.map((p) => h`<tr data-park="${p.code}">
      <td>${GP.name(named(p))}</td><td>${GP.name(p.code)}</td><td class="num">${p.zones}</td><td class="num">${p.enterprises}</td>
      <td><a class="button secondary workbook" href="/api/parks/${encodeURIComponent(p.code)}/workbook.xlsx?lang=${lang}" download>${w.download}</a></td></tr>`));
    GP.table(document.getElementById('adm-parks'));
    const sel = document.getElementById('adm-park');
    if (sel) {
      const every = _('every park (administrators and bureaus)');
      const chosen = sel.value || working();
      GP.setHTML(sel, [parkList.map((p) => h`<option value="${p.code}" translate="no" ${p.code === chosen ? h`selected` : ''}>${named(p)}</option>`),
        h`<option value="*" ${chosen === '*' ? h`selected` : ''}>${every}</option>`]);
    }
  }

  // the answer to an uploaded workbook: what changed, or the bad cells
  function parkResult(d, ok) {
    const box = document.getElementById('adm-park-result');
    if (ok) {
      const p = parkOf(d.park);
      const name = p ? named(p) : d.park;
      const said = naming(d.created ? _('Park {name} created.', NAME) : d.unchanged ? _('Park {name}: the workbook changes nothing.', NAME) : _('Park {name} updated.', NAME), name);
      const changed = Object.entries(d.changed || {}).map(([k, n]) => _('{kind}: {n}', { kind: d.changed_labels?.[k] || k, n: GP.fmt(n) }));
      const open = _('Work on this park');
      const switchTo = houseWide() && d.park !== working()
        ? h`<p><a id="adm-park-open" href="/park?park=${encodeURIComponent(d.park)}&amp;next=%2Fadmin">${open} ›</a></p>` : '';
      const what = _('New or changed records:');
      GP.setHTML(box, h`<div class="card ok"><p class="good">${said}</p>${changed.length ? h`<p class="changed">${what} ${GP.list(changed)}</p>` : ''}${switchTo}</div>`);
      return;
    }
    const w = {
      refused: _('Workbook refused; nothing was changed'), count: _('(errors: {n})', { n: d.errors_total || (d.errors || []).length }),
      file: _('File'), sheet: _('Sheet'), row: _('Row'), column: _('Column'), reason: _('Reason'), again: _('Correct the cells in your workbook and upload it again.'),
    };
    if (!d.errors) { GP.setHTML(box, h`<div class="card bad"><p class="bad">${w.refused}: ${d.detail || d.status}</p></div>`); return; }
    GP.setHTML(box, h`<div class="card bad"><p class="bad">${w.refused} ${w.count}</p>
      <table class="data" id="adm-park-errors"><thead><tr><th>${w.file}</th><th>${w.sheet}</th><th class="num">${w.row}</th><th>${w.column}</th><th>${w.reason}</th></tr></thead>
      <tbody>${d.errors.map((e) => h`<tr><td translate="no">${e.file}</td><td translate="no">${e.sheet}</td><td class="num">${e.row || ''}</td>
        <td>${e.column ? h`${e.column_label && e.column_label !== e.column ? h`${e.column_label} ` : ''}<code translate="no">${e.column}</code>` : ''}</td><td>${e.reason}</td></tr>`)}</tbody></table>
      <p class="note">${w.again}</p></div>`);
  }

  async function uploadPark(form) {
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const r = await GP.fetch('/api/parks', { method: 'POST', body: new FormData(form) });
      const d = await r.json().catch(() => ({ status: r.status }));
      if (r.ok) {
        Object.keys(entCache).forEach((k) => delete entCache[k]);
        await parks();
        parkResult(d, true);
        form.reset();
        await users(); await sessions(); // the zones and enterprises to give users, the trail
      } else parkResult({ status: r.status, ...d }, false);
    } catch (e) {
      parkResult({ detail: e.message }, false);
    } finally { button.disabled = false; }
  }

  // ------------------------------------------------------------------ users and roles
  async function users() {
    const rows = await GP.api('/api/admin/users');
    const me = document.body.dataset.user;
    rows.forEach((u) => { if (u.enterprise_id) enterprises[u.enterprise_id] = u.enterprise; });
    const w = {
      role: _('Role'), scope: _('Zone or enterprise'), saveRole: _('Save role'), enabled: _('enabled'), disabled: _('deactivated'),
      deactivate: _('Deactivate'), activate: _('Activate'), reset: _('Reset password'), every: _('every park'),
      zone: _('Zone'),
    };
    const scopeOf = (u) => (u.role === 'enterprise' ? GP.name(u.enterprise) : u.zone ? h`${w.zone} ${GP.name(GP.zh() ? u.zone_name_zh : u.zone_name_en)}` : '–');
    GP.setHTML(document.querySelector('#adm-users tbody'), rows.map((u) => h`<tr data-user="${u.username}">
      <td>${GP.name(u.username)}</td><td>${GP.name(u.display_name)}</td>
      <td><select class="role" aria-label="${w.role}">${Object.keys(ROLES).map((r) => h`<option value="${r}" ${r === u.role ? h`selected` : ''}>${role(r)}</option>`)}</select>
        <select class="scope" aria-label="${w.scope}" hidden></select>
        <button class="save-role" hidden>${w.saveRole}</button></td>
      ${houseWide() ? h`<td>${u.park ? GP.name(GP.zh() ? u.park_name_zh : u.park_name_en) : w.every}</td>` : ''}
      <td>${scopeOf(u)}</td>
      <td class="${u.active ? 'good' : 'bad'}">${u.active ? w.enabled : w.disabled}</td><td>${local(u.last_login_utc)}</td>
      <td>${u.username === me ? '' : h`<button class="toggle">${u.active ? w.deactivate : w.activate}</button> `}<button class="reset">${w.reset}</button></td></tr>`));
    GP.table(document.getElementById('adm-users'));
    document.querySelectorAll('#adm-users tbody tr').forEach((tr) => {
      const name = tr.dataset.user; const u = rows.find((x) => x.username === name);
      const park = u.park || working();
      const roleSel = tr.querySelector('select.role'), scopeSel = tr.querySelector('select.scope'), save = tr.querySelector('button.save-role');
      const was = u.role === 'enterprise' ? u.enterprise_code : u.role === 'zone_staff' ? u.zone : '';
      const changed = async () => {
        const r = roleSel.value;
        scopeSel.hidden = r !== 'enterprise' && r !== 'zone_staff';
        if (r === 'zone_staff') GP.setHTML(scopeSel, zoneOptions(park, u.zone));
        if (r === 'enterprise') GP.setHTML(scopeSel, entOptions(await enterprisesOf(park), u.enterprise_code));
        save.hidden = r === u.role && (scopeSel.hidden || scopeSel.value === was);
      };
      roleSel.onchange = changed;
      scopeSel.onchange = () => { save.hidden = roleSel.value === u.role && scopeSel.value === was; };
      confirming(save, _('Change the role?'), async () => {
        const r = roleSel.value;
        // the user stays in their park; an account of every park keeps it if its new role may
        const target = u.park || (HOUSE_WIDE.includes(r) ? '*' : '');
        await send(`/api/admin/users/${encodeURIComponent(name)}/role`, 'PUT', { role: r, park: target,
          zone: r === 'zone_staff' ? scopeSel.value : '', enterprise: r === 'enterprise' ? scopeSel.value : '' });
        result('adm-user-result', true, naming(_('Role of {name} changed; their sessions ended', NAME), name)); await load();
      });
      const toggle = tr.querySelector('button.toggle');
      if (toggle) confirming(toggle, u.active ? _('Deactivate?') : _('Activate?'), async () => {
        await send(`/api/admin/users/${encodeURIComponent(name)}/active`, 'POST', { active: !u.active });
        result('adm-user-result', true, naming(u.active ? _('{name} deactivated: sessions ended, tokens refused', NAME) : _('{name} activated', NAME), name));
        await load();
      });
      confirming(tr.querySelector('button.reset'), _('Reset the password?'), async () => {
        const d = await send(`/api/admin/users/${encodeURIComponent(name)}/password`, 'POST');
        const said = naming(_('New password of {name} (shown once):', NAME), name);
        GP.setHTML(document.getElementById('adm-user-result'), h`<p class="good">${said} <code class="secret">${d.password}</code></p>`);
        await load();
      });
    });
    const roleSel = document.getElementById('adm-role');
    const chooseRole = _('— choose a role —');
    const chosen = roleSel.value;
    GP.setHTML(roleSel, [h`<option value="" ${chosen ? '' : h`selected`} disabled>${chooseRole}</option>`, Object.keys(ROLES).map((r) => h`<option value="${r}" ${r === chosen ? h`selected` : ''}>${role(r)}</option>`)]);
    await userForm();
    GP.setHTML(document.getElementById('adm-token-user'), rows.filter((u) => u.active).map((u) => h`<option value="${u.username}" translate="no">${u.username} · ${role(u.role)}</option>`));
  }

  // the new-user form: the park (an admin of the whole house chooses), then a zone of it for a
  // zone officer, an enterprise of it for an enterprise user
  async function userForm() {
    const r = document.getElementById('adm-role').value;
    const parkSel = document.getElementById('adm-park');
    const every = parkSel ? parkSel.querySelector('option[value="*"]') : null;
    if (every) {
      every.hidden = every.disabled = !HOUSE_WIDE.includes(r);
      if (every.disabled && parkSel.value === '*') parkSel.value = working();
    }
    const park = parkSel ? parkSel.value : working();
    const zoneLabel = document.getElementById('adm-zone-label'), entLabel = document.getElementById('adm-enterprise-label');
    zoneLabel.hidden = r !== 'zone_staff';
    entLabel.hidden = r !== 'enterprise';
    const zoneSel = document.getElementById('adm-zone'), entSel = document.getElementById('adm-enterprise');
    zoneSel.required = !zoneLabel.hidden; entSel.required = !entLabel.hidden;
    zoneSel.disabled = zoneLabel.hidden; entSel.disabled = entLabel.hidden; // a hidden field is not sent
    if (!zoneLabel.hidden) GP.setHTML(zoneSel, zoneOptions(park, zoneSel.value));
    if (!entLabel.hidden) {
      const ents = await enterprisesOf(park);
      ents.forEach((e) => { enterprises[e.id] = e.name; });
      GP.setHTML(entSel, entOptions(ents, entSel.value));
    }
  }

  // ------------------------------------------------------------------ tokens, sessions, the trail
  async function tokens() {
    const rows = await GP.api('/api/admin/tokens');
    const w = { revoke: _('Revoke'), none: _('No tokens') };
    GP.setHTML(document.querySelector('#adm-tokens tbody'), rows.length ? rows.map((t) => h`<tr data-id="${t.id}" class="${t.state === 'active' ? '' : 'muted'}"><td>${t.id}</td><td>${GP.name(t.username)}</td><td>${GP.name(t.name)}</td>
      <td>${word(STATES, t.state)}</td><td>${local(t.created_utc)}</td><td>${local(t.expires_utc)}</td><td>${local(t.last_used_utc)}</td>
      <td>${t.state === 'active' ? h`<button class="revoke">${w.revoke}</button>` : t.revoked_by ? h`<span class="note" translate="no">${t.revoked_by}</span>` : ''}</td></tr>`)
      : h`<tr class="empty"><td colspan="8" class="note">${w.none}</td></tr>`);
    GP.table(document.getElementById('adm-tokens'));
    document.querySelectorAll('#adm-tokens button.revoke').forEach((b) => confirming(b, _('Revoke it?'), async () => {
      await send(`/api/admin/tokens/${b.closest('tr').dataset.id}`, 'DELETE'); await tokens();
    }));
  }

  // a field of an event: the account fields by name here, a record's as the API labels it (a
  // workbook's column without a label: its name, as the workbook writes it)
  const fieldOf = (e) => (FIELDS[e.field] ? _(FIELDS[e.field]) : e.field_label && e.field_label !== e.field ? e.field_label : e.field ? h`<code translate="no">${e.field}</code>` : '');

  // a recorded value (a created record's every field can be long): its start, all of it on hover
  const LONG = 240;
  const valueCell = (text) => (text.length > LONG
    ? h`<td translate="no" title="${text}">${text.slice(0, LONG)}…</td>` : h`<td translate="no">${text}</td>`);

  async function sessions() {
    const rows = await GP.api('/api/admin/sessions');
    const w = { end: _('End'), ok: _('succeeded'), failed: _('failed') };
    GP.setHTML(document.querySelector('#adm-sessions tbody'), rows.map((s) => h`<tr data-id="${s.id}"><td>${GP.name(s.username)}</td><td>${GP.name(s.address)}</td><td>${local(s.created_utc)}</td><td>${local(s.last_seen_utc)}</td>
      <td><button class="end">${w.end}</button></td></tr>`));
    GP.table(document.getElementById('adm-sessions'));
    document.querySelectorAll('#adm-sessions button.end').forEach((b) => confirming(b, _('End the session?'), async () => {
      await send(`/api/admin/sessions/${b.closest('tr').dataset.id}`, 'DELETE'); await sessions();
    }));
    const logins = await GP.api('/api/admin/logins?limit=50');
    GP.setHTML(document.querySelector('#adm-logins tbody'), logins.map((x) => h`<tr><td>${local(x.at_utc)}</td><td>${GP.name(x.username)}</td><td>${GP.name(x.address)}</td><td class="${x.ok ? 'good' : 'bad'}">${x.ok ? w.ok : w.failed}</td></tr>`));
    GP.table(document.getElementById('adm-logins'));
    // the labels of actions and kinds of record come with the events (one list, on the server)
    const audit = await GP.api('/api/admin/audit?limit=200');
    GP.setHTML(document.querySelector('#adm-audit tbody'), audit.map((e) => h`<tr><td data-sort="${e.at_utc}">${local(e.at_utc)}</td><td>${GP.name(e.actor)}</td><td>${e.action_label}</td>
      <td>${e.entity_label} <span translate="no">${e.key}</span></td><td>${fieldOf(e)}</td>
      ${valueCell(ACCOUNTS.has(e.entity) ? show(e.old) : e.old_text)}${valueCell(ACCOUNTS.has(e.entity) ? show(e.new) : e.new_text)}</tr>`));
    GP.table(document.getElementById('adm-audit'));
  }

  // the users need the parks (their zones); the token and session tables need the user list first
  async function load() { await parks(); await users(); await Promise.all([tokens(), sessions()]); }

  GP.pages.admin = async () => {
    try {
      await load();
      document.getElementById('adm-role').onchange = userForm;
      const parkSel = document.getElementById('adm-park');
      if (parkSel) parkSel.onchange = userForm;
      document.getElementById('adm-park-form').onsubmit = (ev) => { ev.preventDefault(); uploadPark(ev.target); };
      document.getElementById('adm-user-form').onsubmit = async (ev) => {
        ev.preventDefault();
        const fd = new FormData(ev.target);
        try {
          const d = await send('/api/admin/users', 'POST', Object.fromEntries(fd.entries()));
          const said = naming(d.password ? _('{name} created. First password (shown once):', NAME) : _('{name} created', NAME), d.username);
          GP.setHTML(document.getElementById('adm-user-result'), d.password
            ? h`<p class="good">${said} <code class="secret">${d.password}</code></p>`
            : h`<p class="good">${said}</p>`);
          ev.target.reset(); await load();
        } catch (e) { result('adm-user-result', false, e.message); }
      };
      document.getElementById('adm-token-form').onsubmit = async (ev) => {
        ev.preventDefault();
        const fd = new FormData(ev.target);
        try {
          const d = await send('/api/admin/tokens', 'POST', { username: fd.get('username'), name: fd.get('name'), days: Number(fd.get('days')) });
          const said = naming(_('Token for {name} (shown once; keep it now):', NAME), d.username);
          GP.setHTML(document.getElementById('adm-token-result'), h`<p class="good">${said} <code class="secret">${d.token}</code></p>`);
          ev.target.reset(); await Promise.all([tokens(), sessions()]); // the audit trail shows it too
        } catch (e) { result('adm-token-result', false, e.message); }
      };
    } catch (e) {
      const box = document.getElementById('page-error'); box.hidden = false; box.textContent = e.message;
    }
    document.body.dataset.ready = '1';
  };
})();
